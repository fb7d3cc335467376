// glibc's fortified longjmp refuses to jump between stacks, which is all this file does.
#undef _FORTIFY_SOURCE
#include "block_scheduler.h"

#include <cstdlib>
#include <cstring>

namespace c2f_emu {

thread_local ThreadState* current_thread_state = nullptr;
thread_local BlockState* current_block_state = nullptr;

namespace {
thread_local BlockScheduler* current_scheduler = nullptr;

constexpr int slot_words_per_lane = 16;

// Fibers switch with _setjmp/_longjmp (no signal-mask system call, unlike swapcontext) and start with
// makecontext. AddressSanitizer follows only swapcontext, so sanitized builds switch with it throughout.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool jump_switching = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool jump_switching = false;
#else
constexpr bool jump_switching = true;
#endif
#else
constexpr bool jump_switching = true;
#endif

// getcontext returns twice in principle, like setjmp, so it gets a frame of its own: no variable of the caller
// (the loop over fibers) can be clobbered, and the compiler need not assume it might be.
__attribute__((noinline)) void start_context(ucontext_t& context, void* stack, std::size_t stack_bytes, void (*entry)())
{
    getcontext(&context);
    context.uc_stack.ss_sp = stack;
    context.uc_stack.ss_size = stack_bytes;
    context.uc_link = nullptr;  // fibers leave through leave_fiber, never by returning
    makecontext(&context, entry, 0);
}
}  // namespace

void sync_block() { current_scheduler->sync_block(); }
void sync_warp() { current_scheduler->sync_warp(); }
uint64_t* warp_slots() { return current_scheduler->warp_slots(); }
void trap(const char* reason) { current_scheduler->trap(reason); }
void async_copy(void* shared, const void* global, int valid_bytes) { current_scheduler->async_copy(shared, global, valid_bytes); }
void async_commit() { current_scheduler->async_commit(); }
void async_wait(int pending) { current_scheduler->async_wait(pending); }

BlockScheduler::BlockScheduler(const KernelCall& call)
    : call_(call),
      threads_(static_cast<int>(call.block.x * call.block.y * call.block.z)),
      warps_((threads_ + 31) / 32),
      stacks_(&FiberStacks::acquire(threads_)),
      dynamic_shared_(call.dynamic_shared_bytes + 128),
      fibers_(threads_),
      warp_barriers_(warps_),
      warp_lanes_(warps_),
      warp_exited_(warps_),
      slots_(static_cast<std::size_t>(warps_) * 32 * slot_words_per_lane)
{
    for (int w = 0; w < warps_; w++) warp_lanes_[w] = w < warps_ - 1 ? 32 : threads_ - 32 * w;
    block_state_.block_dim = call.block;
    block_state_.grid_dim = call.grid;
    // CUDA aligns dynamic shared memory to at least 16 bytes; 128 covers every vector and swizzle.
    auto base = reinterpret_cast<std::uintptr_t>(dynamic_shared_.data());
    block_state_.dynamic_shared = dynamic_shared_.data() + ((128 - base % 128) % 128);
}

std::string BlockScheduler::run(uint3 index)
{
    block_state_.block_idx = index;
    block_barrier_ = {};
    for (int w = 0; w < warps_; w++) warp_barriers_[w] = {}, warp_exited_[w] = 0;
    error_.clear();
    live_ = threads_;
    for (int t = 0; t < threads_; t++)
    {
        Fiber& fiber = fibers_[t];
        unsigned x = t % call_.block.x, y = (t / call_.block.x) % call_.block.y, z = t / (call_.block.x * call_.block.y);
        fiber.state = {{x, y, z}, t % 32, t / 32};
        fiber.waiting = Wait::None;
        fiber.done = false;
        fiber.started = false;
        fiber.copies.clear();
        fiber.committed_groups = 0;
        start_context(fiber.context, stacks_->base(t), FiberStacks::stack_bytes, &BlockScheduler::fiber_main);
    }

    BlockScheduler* outer = current_scheduler;
    current_scheduler = this;
    current_block_state = &block_state_;
    // Warps run one at a time, each until all its threads wait at __syncthreads or have ended (as if the
    // others were stalled), and passes alternate direction, starting the other way round in every other
    // block: so between two barriers one warp may run far ahead of another, in either order, and a
    // shared-memory race (a missing __syncthreads) shows in the results instead of hiding.
    bool backwards = (index.x + index.y + index.z) % 2 == 1;
    while (live_ > 0 && error_.empty())
    {
        progress_ = false;
        for (int n = 0; n < warps_ && error_.empty(); n++)
        {
            int warp = backwards ? warps_ - 1 - n : n;
            Fiber* lanes = fibers_.data() + 32 * warp;
            bool ran = true;
            while (ran && error_.empty())
            {
                ran = false;
                for (int lane = 0; lane < warp_lanes_[warp]; lane++)
                {
                    Fiber& fiber = lanes[backwards ? warp_lanes_[warp] - 1 - lane : lane];
                    // A fiber still held by its barrier would only switch back at once: skip it.
                    if (fiber.done || (fiber.waiting != Wait::None && fiber.barrier->generation == fiber.generation)) continue;
                    current_ = &fiber;
                    current_thread_state = &fiber.state;
                    switch_to(fiber);
                    ran = true;
                    if (!error_.empty()) break;
                }
            }
        }
        if (error_.empty() && live_ > 0 && !progress_) error_ = deadlock_message();
        backwards = !backwards;
    }
    current_scheduler = outer;
    return error_;
}

void BlockScheduler::fiber_main()
{
    BlockScheduler& self = *current_scheduler;
    self.call_.invoke(self.call_.kernel, self.call_.params);
    self.finish_current();
    self.leave_fiber();
}

__attribute__((noinline)) void BlockScheduler::switch_to(Fiber& fiber)
{
    if (!jump_switching)
    {
        swapcontext(&scheduler_, &fiber.context);
        return;
    }
    if (_setjmp(scheduler_jump_) != 0) return;  // the fiber yielded or ended
    if (fiber.started) _longjmp(fiber.jump, 1);
    fiber.started = true;
    setcontext(&fiber.context);
}

__attribute__((noinline)) void BlockScheduler::yield_to_scheduler()
{
    Fiber& fiber = *current_;
    if (!jump_switching)
    {
        swapcontext(&fiber.context, &scheduler_);
        return;
    }
    if (_setjmp(fiber.jump) == 0) _longjmp(scheduler_jump_, 1);
}

void BlockScheduler::leave_fiber()
{
    if (jump_switching) _longjmp(scheduler_jump_, 1);
    setcontext(&scheduler_);
    std::abort();  // setcontext returns only on failure
}

void BlockScheduler::finish_current()
{
    current_->done = true;
    live_--;
    warp_exited_[current_->state.warp]++;
    progress_ = true;
    // Threads that have exited no longer hold back a __syncthreads of the others (sm_70+ behaviour).
    if (block_barrier_.arrived > 0 && block_barrier_.arrived == live_)
    {
        block_barrier_.arrived = 0;
        block_barrier_.generation++;
    }
}

void BlockScheduler::wait_for(Barrier& barrier, unsigned generation, Wait kind)
{
    Fiber& fiber = *current_;
    fiber.waiting = kind;
    fiber.barrier = &barrier;
    fiber.generation = generation;
    while (barrier.generation == generation) yield_to_scheduler();
    fiber.waiting = Wait::None;
}

void BlockScheduler::sync_block()
{
    progress_ = true;
    unsigned generation = block_barrier_.generation;
    if (++block_barrier_.arrived == live_)
    {
        block_barrier_.arrived = 0;
        block_barrier_.generation++;
        return;
    }
    wait_for(block_barrier_, generation, Wait::Block);
}

void BlockScheduler::sync_warp()
{
    int warp = current_->state.warp;
    if (warp_exited_[warp] > 0) trap("warp collective after some lanes of the warp exited");
    progress_ = true;
    Barrier& barrier = warp_barriers_[warp];
    unsigned generation = barrier.generation;
    if (++barrier.arrived == warp_lanes_[warp])
    {
        barrier.arrived = 0;
        barrier.generation++;
        return;
    }
    wait_for(barrier, generation, Wait::Warp);
}

uint64_t* BlockScheduler::warp_slots()
{
    return slots_.data() + static_cast<std::size_t>(current_->state.warp) * 32 * slot_words_per_lane;
}

void BlockScheduler::async_copy(void* shared, const void* global, int valid_bytes)
{
    if (valid_bytes < 0 || valid_bytes > 16) trap("cp.async with a source size outside 0..16 bytes");
    current_->copies.push_back({shared, global, valid_bytes, -1});
}

void BlockScheduler::async_commit()
{
    Fiber& fiber = *current_;
    for (auto it = fiber.copies.rbegin(); it != fiber.copies.rend() && it->group < 0; ++it) it->group = fiber.committed_groups;
    fiber.committed_groups++;
}

void BlockScheduler::async_wait(int pending)
{
    Fiber& fiber = *current_;
    int complete_below = fiber.committed_groups - pending;
    while (!fiber.copies.empty() && fiber.copies.front().group >= 0 && fiber.copies.front().group < complete_below)
    {
        const AsyncCopy& copy = fiber.copies.front();
        auto* destination = static_cast<unsigned char*>(copy.shared);
        std::memset(destination, 0, 16);
        if (copy.valid_bytes > 0) std::memcpy(destination, copy.global, static_cast<std::size_t>(copy.valid_bytes));
        fiber.copies.pop_front();
    }
}

void BlockScheduler::trap(const char* reason)
{
    if (error_.empty())
    {
        const uint3& t = current_->state.thread_idx;
        error_ = std::string(reason) + " in thread (" + std::to_string(t.x) + "," + std::to_string(t.y) + "," + std::to_string(t.z) + ")";
    }
    current_->done = true;
    leave_fiber();
}

std::string BlockScheduler::deadlock_message() const
{
    int at_block = 0, at_warp = 0;
    for (const Fiber& fiber : fibers_)
    {
        if (fiber.done) continue;
        if (fiber.waiting == Wait::Block) at_block++;
        if (fiber.waiting == Wait::Warp) at_warp++;
    }
    return "deadlock: " + std::to_string(at_block) + " thread(s) wait at __syncthreads, " + std::to_string(at_warp) +
           " at a warp collective, " + std::to_string(threads_ - live_) +
           " exited (a barrier or collective inside divergent code, or lanes that returned early)";
}

}  // namespace c2f_emu
