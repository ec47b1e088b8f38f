#include "http/read_pool.hpp"

#include <memory>

#include <spdlog/spdlog.h>

#include "store/store_reader.hpp"

namespace customeriq::http {

ReadPool::ReadPool(const std::filesystem::path& database, std::size_t threads, std::size_t max_queued)
    : max_queued_(max_queued) {
  std::vector<std::unique_ptr<StoreReader>> readers;
  for (std::size_t i = 0; i < threads; ++i) readers.push_back(std::make_unique<StoreReader>(database));
  for (auto& reader : readers) {
    threads_.emplace_back([this, reader = std::shared_ptr<StoreReader>(std::move(reader))] { run(*reader); });
  }
}

ReadPool::~ReadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  for (auto& thread : threads_) thread.join();
}

bool ReadPool::submit(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || tasks_.size() >= max_queued_) return false;
    tasks_.push_back(std::move(task));
  }
  not_empty_.notify_one();
  return true;
}

std::size_t ReadPool::queued() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void ReadPool::run(StoreReader& reader) {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task(reader);
    } catch (const std::exception& failure) {
      spdlog::error("[HTTP] a read failed: {}", failure.what());
    }
  }
}

}  // namespace customeriq::http
