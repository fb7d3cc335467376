// Fiber stacks, kept per worker thread from launch to launch: mapping and first-touching fresh stacks for
// every block of every launch cost more than running small kernels.
#pragma once
#include <cstddef>

namespace c2f_emu {

class FiberStacks
{
public:
    /// Usable bytes of each stack: kernels keep fragments and tiles in local arrays, sanitizers add frames.
    static constexpr std::size_t stack_bytes = 256 * 1024;

    /// The calling worker's stacks for `count` fibers (valid until the next acquire on this thread): stack t
    /// starts at base(t) and has a guard page below it, so an overflow faults instead of corrupting a neighbour.
    static FiberStacks& acquire(int count);

    unsigned char* base(int fiber) const;

private:
    FiberStacks() = default;
    ~FiberStacks();
    FiberStacks(const FiberStacks&) = delete;
    FiberStacks& operator=(const FiberStacks&) = delete;
    void grow(int count);

    unsigned char* memory_ = nullptr;
    std::size_t stride_ = 0;
    int count_ = 0;
};

}  // namespace c2f_emu
