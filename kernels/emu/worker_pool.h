// The emulator's worker threads, started once and kept: a launch of small kernels would otherwise spend more
// on creating threads (and their fiber stacks, see fiber_stacks.h) than on running blocks.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace c2f_emu {

class WorkerPool
{
public:
    /// Runs `work` on the calling thread and on `helpers` pool threads, returning when every one has finished.
    /// One launch at a time: a second caller waits for the first.
    static void run(unsigned helpers, const std::function<void()>& work);

private:
    WorkerPool() = default;
    ~WorkerPool();
    void serve(unsigned index);

    std::mutex launch_;  // held for a whole run
    std::mutex state_;
    std::condition_variable wake_, finished_;
    std::vector<std::thread> threads_;
    const std::function<void()>* work_ = nullptr;
    unsigned long long generation_ = 0;
    unsigned active_ = 0, running_ = 0;
    bool stopping_ = false;
};

}  // namespace c2f_emu
