// How kernels become launchable by name: C2F_REGISTER_KERNEL(name) records an invoker that unpacks
// cuLaunchKernel-style `void**` parameters into the kernel's typed arguments, and the kernel's signature, one
// letter per parameter, so every emulated launch is checked against the C++ declaration.
#pragma once
#include <cstdint>
#include <type_traits>
#include <utility>

namespace c2f_emu {

using KernelInvoker = void (*)(void* kernel, void** params);

void register_kernel(const char* name, void* kernel, KernelInvoker invoke, const char* signature);

/// p pointer, f float, d double, i / u 32-bit signed / unsigned, l / L 64-bit signed / unsigned, ? anything else.
template <class T>
constexpr char parameter_kind()
{
    using U = std::remove_cv_t<std::remove_reference_t<T>>;
    if constexpr (std::is_pointer_v<U>) return 'p';
    else if constexpr (std::is_same_v<U, float>) return 'f';
    else if constexpr (std::is_same_v<U, double>) return 'd';
    else if constexpr (std::is_integral_v<U> && sizeof(U) == 4) return std::is_signed_v<U> ? 'i' : 'u';
    else if constexpr (std::is_integral_v<U> && sizeof(U) == 8) return std::is_signed_v<U> ? 'l' : 'L';
    else return '?';
}

template <class... Args>
struct KernelRegistrar
{
    static constexpr char signature[] = {parameter_kind<Args>()..., '\0'};

    KernelRegistrar(const char* name, void (*kernel)(Args...))
    {
        register_kernel(name, reinterpret_cast<void*>(kernel), &invoke, signature);
    }

    static void invoke(void* kernel, void** params) { call(reinterpret_cast<void (*)(Args...)>(kernel), params, std::index_sequence_for<Args...>{}); }

    template <std::size_t... I>
    static void call(void (*kernel)(Args...), void** params, std::index_sequence<I...>)
    {
        kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<Args>>*>(params[I])...);
    }
};

}  // namespace c2f_emu

#define C2F_REGISTER_KERNEL(name) static const ::c2f_emu::KernelRegistrar c2f_emu_registrar_##name(#name, &name)
