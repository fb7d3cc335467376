// CUDA atomics on host memory: blocks run on several worker threads, so these are real atomics.
#pragma once
#include <atomic>

namespace c2f_emu {

template <class T>
T atomic_add(T* address, T value) { return std::atomic_ref<T>(*address).fetch_add(value); }

template <class T>
T atomic_max(T* address, T value)
{
    std::atomic_ref<T> target(*address);
    T old = target.load();
    while (old < value && !target.compare_exchange_weak(old, value)) {}
    return old;
}

template <class T>
T atomic_min(T* address, T value)
{
    std::atomic_ref<T> target(*address);
    T old = target.load();
    while (value < old && !target.compare_exchange_weak(old, value)) {}
    return old;
}

template <class T>
T atomic_cas(T* address, T compare, T value)
{
    std::atomic_ref<T>(*address).compare_exchange_strong(compare, value);
    return compare;  // the value found, as atomicCAS returns
}

}  // namespace c2f_emu

inline float atomicAdd(float* address, float value) { return c2f_emu::atomic_add(address, value); }
inline double atomicAdd(double* address, double value) { return c2f_emu::atomic_add(address, value); }
inline int atomicAdd(int* address, int value) { return c2f_emu::atomic_add(address, value); }
inline unsigned atomicAdd(unsigned* address, unsigned value) { return c2f_emu::atomic_add(address, value); }
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long value) { return c2f_emu::atomic_add(address, value); }
inline int atomicMax(int* address, int value) { return c2f_emu::atomic_max(address, value); }
inline unsigned atomicMax(unsigned* address, unsigned value) { return c2f_emu::atomic_max(address, value); }
inline int atomicMin(int* address, int value) { return c2f_emu::atomic_min(address, value); }
inline unsigned atomicMin(unsigned* address, unsigned value) { return c2f_emu::atomic_min(address, value); }
inline int atomicCAS(int* address, int compare, int value) { return c2f_emu::atomic_cas(address, compare, value); }
inline unsigned atomicCAS(unsigned* address, unsigned compare, unsigned value) { return c2f_emu::atomic_cas(address, compare, value); }
inline unsigned long long atomicCAS(unsigned long long* address, unsigned long long compare, unsigned long long value)
{
    return c2f_emu::atomic_cas(address, compare, value);
}
inline int atomicExch(int* address, int value) { return std::atomic_ref<int>(*address).exchange(value); }
inline float atomicExch(float* address, float value) { return std::atomic_ref<float>(*address).exchange(value); }

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
