// The emulator's C interface: kernel registry, launch validation, and blocks spread over worker threads.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include "block_scheduler.h"
#include "worker_pool.h"
#include "c2f/emu/c2f_emu.h"

namespace c2f_emu {
namespace {

struct KernelEntry
{
    void* kernel;
    KernelInvoker invoke;
    const char* signature;
};

std::map<std::string, KernelEntry>& registry()
{
    static std::map<std::string, KernelEntry> kernels;
    return kernels;
}

thread_local std::string last_error;
std::atomic<int> worker_threads{0};

// The limits of an sm_90 device, so a launch that fails there fails here too.
constexpr unsigned max_threads_per_block = 1024;
constexpr unsigned max_dynamic_shared_bytes = 227 * 1024;

std::string validate(const dim3& grid, const dim3& block, unsigned dynamic_shared_bytes)
{
    unsigned long long threads = 1ull * block.x * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return "empty grid";
    if (grid.y > 65535 || grid.z > 65535 || grid.x > 0x7FFFFFFFu) return "grid exceeds 2147483647 × 65535 × 65535";
    if (threads == 0) return "empty block";
    if (threads > max_threads_per_block || block.z > 64)
        return "block of " + std::to_string(threads) + " threads exceeds the 1024-thread limit (z ≤ 64)";
    if (dynamic_shared_bytes > max_dynamic_shared_bytes)
        return std::to_string(dynamic_shared_bytes) + " bytes of dynamic shared memory exceed the 227 KiB of a block";
    return "";
}

std::string run_grid(const KernelCall& call)
{
    const unsigned long long blocks = 1ull * call.grid.x * call.grid.y * call.grid.z;
    int configured = worker_threads.load();
    unsigned workers = configured > 0 ? static_cast<unsigned>(configured) : std::max(1u, std::thread::hardware_concurrency());
    workers = static_cast<unsigned>(std::min<unsigned long long>(workers, blocks));

    std::atomic<unsigned long long> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_lock;
    std::string error;
    std::function<void()> work = [&] {
        BlockScheduler scheduler(call);
        for (unsigned long long b = next++; b < blocks && !failed; b = next++)
        {
            uint3 index{static_cast<unsigned>(b % call.grid.x), static_cast<unsigned>(b / call.grid.x % call.grid.y),
                        static_cast<unsigned>(b / (1ull * call.grid.x * call.grid.y))};
            std::string reason = scheduler.run(index);
            if (reason.empty()) continue;
            std::lock_guard<std::mutex> guard(error_lock);
            if (!failed.exchange(true))
                error = "block (" + std::to_string(index.x) + "," + std::to_string(index.y) + "," + std::to_string(index.z) + "): " + reason;
        }
    };
    WorkerPool::run(workers - 1, work);
    return error;
}

}  // namespace

void register_kernel(const char* name, void* kernel, KernelInvoker invoke, const char* signature)
{
    registry()[name] = {kernel, invoke, signature};
}

}  // namespace c2f_emu

using namespace c2f_emu;

extern "C" int c2f_emu_launch(const char* kernel, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                              unsigned block_y, unsigned block_z, unsigned dynamic_shared_bytes, void** params)
{
    last_error.clear();
    auto found = registry().find(kernel ? kernel : "");
    if (found == registry().end())
    {
        last_error = std::string("no kernel named '") + (kernel ? kernel : "(null)") + "' in the emulator library";
        return -1;
    }
    KernelCall call{found->second.kernel, found->second.invoke, params, dim3(grid_x, grid_y, grid_z),
                    dim3(block_x, block_y, block_z), dynamic_shared_bytes};
    std::string error = validate(call.grid, call.block, dynamic_shared_bytes);
    if (error.empty())
    {
        try { error = run_grid(call); }
        catch (const std::exception& e) { error = std::string("emulator failure: ") + e.what(); }
    }
    if (error.empty()) return 0;
    last_error = std::string(kernel) + ": " + error;
    return -1;
}

extern "C" const char* c2f_emu_last_error(void) { return last_error.c_str(); }

// The exact size, not rounded up, so AddressSanitizer sees an overrun of even one element.
extern "C" void* c2f_emu_malloc(size_t bytes)
{
    void* pointer = nullptr;
    return posix_memalign(&pointer, 256, std::max<size_t>(bytes, 1)) == 0 ? pointer : nullptr;
}

extern "C" void c2f_emu_free(void* pointer) { std::free(pointer); }

extern "C" int c2f_emu_kernel_count(void) { return static_cast<int>(registry().size()); }

extern "C" const char* c2f_emu_kernel_name(int index)
{
    if (index < 0 || index >= c2f_emu_kernel_count()) return nullptr;
    auto it = registry().begin();
    std::advance(it, index);
    return it->first.c_str();
}

extern "C" const char* c2f_emu_kernel_signature(const char* kernel)
{
    auto found = registry().find(kernel ? kernel : "");
    return found == registry().end() ? nullptr : found->second.signature;
}

extern "C" void c2f_emu_set_worker_threads(int count) { worker_threads = std::max(0, count); }
