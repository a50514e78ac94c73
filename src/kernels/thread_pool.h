// One pool of worker threads shared by every heavy op. ParallelFor cuts [0, n) into a few
// chunks per thread that the threads (the caller included) take in turn, so a thread that
// wakes late or runs slow (a busy shared core) leaves its share to the others.
//
// Decode issues a parallel op every 20-100 us, about as long as waking a sleeping thread
// takes, so idle threads first spin for a short while (kSpinMicros) before they block: the
// bound keeps the pool from burning a core that other work on the machine needs.
// One caller at a time (the engine serialises compute).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace g3n {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // total threads including the caller; <=0 = hardware
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // fn(begin, end) over disjoint ranges covering [0, n); `grain` is the smallest chunk.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

  static constexpr int kSpinMicros = 50;

 private:
  struct Job;  // lives on the caller's stack for one ParallelFor
  void WorkerLoop();
  void RunChunks(Job& job);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  std::atomic<Job*> job_{nullptr};
  std::atomic<uint64_t> generation_{0};  // bumped once per job
  std::atomic<int> inside_{0};           // workers that may hold a Job pointer
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
};

// Runs fn serially when pool is null.
void ParallelFor(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

}  // namespace g3n
