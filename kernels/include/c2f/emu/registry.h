// How kernels become launchable by name: C2F_REGISTER_KERNEL(name) records an invoker that unpacks
// cuLaunchKernel-style `void**` parameters into the kernel's typed arguments.
#pragma once
#include <type_traits>
#include <utility>

namespace c2f_emu {

using KernelInvoker = void (*)(void* kernel, void** params);

void register_kernel(const char* name, void* kernel, KernelInvoker invoke, int parameter_count);

template <class... Args>
struct KernelRegistrar
{
    KernelRegistrar(const char* name, void (*kernel)(Args...))
    {
        register_kernel(name, reinterpret_cast<void*>(kernel), &invoke, static_cast<int>(sizeof...(Args)));
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
