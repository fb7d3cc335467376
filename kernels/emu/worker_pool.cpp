#include "worker_pool.h"

namespace c2f_emu {

void WorkerPool::run(unsigned helpers, const std::function<void()>& work)
{
    static WorkerPool pool;
    std::lock_guard<std::mutex> launch(pool.launch_);
    {
        std::lock_guard<std::mutex> lock(pool.state_);
        while (pool.threads_.size() < helpers)
        {
            auto index = static_cast<unsigned>(pool.threads_.size());
            pool.threads_.emplace_back([index] { pool.serve(index); });
        }
        pool.work_ = &work;
        pool.active_ = pool.running_ = helpers;
        pool.generation_++;
    }
    pool.wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(pool.state_);
    pool.finished_.wait(lock, [] { return pool.running_ == 0; });
    pool.work_ = nullptr;
}

void WorkerPool::serve(unsigned index)
{
    unsigned long long seen = 0;
    while (true)
    {
        const std::function<void()>* work;
        {
            std::unique_lock<std::mutex> lock(state_);
            wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && index < active_); });
            if (stopping_) return;
            seen = generation_;
            work = work_;
        }
        (*work)();
        std::lock_guard<std::mutex> lock(state_);
        if (--running_ == 0) finished_.notify_one();
    }
}

WorkerPool::~WorkerPool()
{
    {
        std::lock_guard<std::mutex> lock(state_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) thread.join();
}

}  // namespace c2f_emu
