#include "fiber_stacks.h"

#include <sys/mman.h>
#include <unistd.h>
#include <new>

namespace c2f_emu {

FiberStacks& FiberStacks::acquire(int count)
{
    thread_local FiberStacks stacks;
    if (count > stacks.count_) stacks.grow(count);
    return stacks;
}

unsigned char* FiberStacks::base(int fiber) const { return memory_ + stride_ * static_cast<std::size_t>(fiber) + (stride_ - stack_bytes); }

void FiberStacks::grow(int count)
{
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t stride = stack_bytes + page;
    void* memory = mmap(nullptr, stride * static_cast<std::size_t>(count), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    for (int t = 0; t < count; t++) mprotect(static_cast<unsigned char*>(memory) + stride * static_cast<std::size_t>(t), page, PROT_NONE);
    if (memory_ != nullptr) munmap(memory_, stride_ * static_cast<std::size_t>(count_));
    memory_ = static_cast<unsigned char*>(memory);
    stride_ = stride;
    count_ = count;
}

FiberStacks::~FiberStacks()
{
    if (memory_ != nullptr) munmap(memory_, stride_ * static_cast<std::size_t>(count_));
}

}  // namespace c2f_emu
