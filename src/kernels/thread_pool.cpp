#include "kernels/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define G3N_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define G3N_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define G3N_CPU_RELAX() ((void)0)
#endif

namespace g3n {

struct ThreadPool::Job {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n, chunk, chunks;
  std::atomic<int64_t> next{0};  // next chunk to take
  std::atomic<int64_t> done{0};  // chunks finished
};

namespace {

// Spins until done() or kSpinMicros have passed; true if done() became true.
template <class Done>
bool SpinFor(Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      G3N_CPU_RELAX();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i + 1 < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunChunks(Job& job) {
  for (;;) {
    const int64_t c = job.next.fetch_add(1);
    if (c >= job.chunks) return;
    (*job.fn)(c * job.chunk, std::min(job.n, (c + 1) * job.chunk));
    if (job.done.fetch_add(1) + 1 == job.chunks && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    auto started = [&] { return stop_.load() || generation_.load() != seen; };
    if (!SpinFor(started)) {
      // With ParallelFor's order (bump generation, then read sleeping_workers_) either it sees
      // this thread asleep and notifies under the lock, or the predicate sees the new job.
      std::unique_lock<std::mutex> lock(mu_);
      sleeping_workers_.fetch_add(1);
      start_cv_.wait(lock, started);
      sleeping_workers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    // inside_ before job_: the caller clears job_ and then waits for inside_ == 0, so a Job
    // read here stays alive until inside_ drops again.
    inside_.fetch_add(1);
    if (Job* job = job_.load()) RunChunks(*job);
    inside_.fetch_sub(1);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t threads = std::min<int64_t>(size(), std::max<int64_t>(1, n / grain));
  if (threads <= 1 || workers_.empty()) {
    fn(0, n);
    return;
  }
  // Four chunks per thread: enough to rebalance, few enough that per-call setup stays small.
  const int64_t chunk = std::max(grain, (n + 4 * threads - 1) / (4 * threads));
  Job job{&fn, n, chunk, (n + chunk - 1) / chunk};
  job_.store(&job);
  generation_.fetch_add(1);
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    start_cv_.notify_all();
  }
  RunChunks(job);
  auto finished = [&] { return job.done.load() == job.chunks; };
  if (!SpinFor(finished)) {
    std::unique_lock<std::mutex> lock(mu_);
    caller_sleeping_.store(true);
    done_cv_.wait(lock, finished);
    caller_sleeping_.store(false);
  }
  job_.store(nullptr);
  while (inside_.load() != 0) std::this_thread::yield();  // a worker may still hold &job
}

void ParallelFor(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (pool == nullptr) {
    if (n > 0) fn(0, n);
    return;
  }
  pool->ParallelFor(n, fn, grain);
}

}  // namespace g3n
