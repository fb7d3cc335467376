// Runs one thread block: one fiber per CUDA thread on the calling worker thread, switched at barriers.
#pragma once
#include <csetjmp>
#include <deque>
#include <string>
#include <vector>
#include <ucontext.h>
#include "c2f/emu/registry.h"
#include "c2f/emu/runtime.h"
#include "fiber_stacks.h"

namespace c2f_emu {

struct KernelCall
{
    void* kernel;
    KernelInvoker invoke;
    void** params;
    dim3 grid;
    dim3 block;
    unsigned dynamic_shared_bytes;
};

class BlockScheduler
{
public:
    explicit BlockScheduler(const KernelCall& call);
    BlockScheduler(const BlockScheduler&) = delete;
    BlockScheduler& operator=(const BlockScheduler&) = delete;

    /// Runs block `index` to completion; returns "" or why it failed (trap, deadlock).
    std::string run(uint3 index);

    // Called from inside the fibers (through runtime.h's free functions).
    void sync_block();
    void sync_warp();
    uint64_t* warp_slots();
    void async_copy(void* shared, const void* global, int valid_bytes);
    void async_commit();
    void async_wait(int pending);
    [[noreturn]] void trap(const char* reason);

private:
    enum class Wait { None, Block, Warp };

    struct Barrier
    {
        int arrived = 0;
        unsigned generation = 0;
    };

    struct AsyncCopy
    {
        void* shared;
        const void* global;
        int valid_bytes;
        int group;  // -1 until committed
    };

    struct Fiber
    {
        ucontext_t context;  // starts the fiber (and switches it, where setjmp switching is off)
        std::jmp_buf jump;   // where the fiber resumes after a yield
        bool started;
        std::deque<AsyncCopy> copies;  // cp.async copies in flight, oldest first
        int committed_groups;
        ThreadState state;
        Wait waiting;
        const Barrier* barrier;  // what a waiting fiber waits on, and for which generation to pass
        unsigned generation;
        bool done;
    };

    static void fiber_main();
    void switch_to(Fiber& fiber);
    void yield_to_scheduler();
    [[noreturn]] void leave_fiber();
    void finish_current();
    void wait_for(Barrier& barrier, unsigned generation, Wait kind);
    std::string deadlock_message() const;

    const KernelCall& call_;
    int threads_;
    int warps_;
    FiberStacks* stacks_;
    std::vector<unsigned char> dynamic_shared_;
    std::vector<Fiber> fibers_;
    std::vector<Barrier> warp_barriers_;
    std::vector<int> warp_lanes_;
    std::vector<int> warp_exited_;
    std::vector<uint64_t> slots_;
    Barrier block_barrier_;
    BlockState block_state_{};
    ucontext_t scheduler_{};
    std::jmp_buf scheduler_jump_{};
    Fiber* current_ = nullptr;
    int live_ = 0;
    bool progress_ = false;
    std::string error_;
};

}  // namespace c2f_emu
