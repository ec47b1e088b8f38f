// libFuzzer target: bytes as a pipeline YAML file → load_pipeline_config.
// Whatever the file holds, the loader either returns a checked config or
// throws ConfigError naming the file (and, for what it parsed, the line and
// column); anything else — another exception, a crash, unbounded recursion —
// is a finding.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "config/environment.hpp"
#include "config/pipeline_config.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::string_view kTarget = "yaml_fuzz";

// One file per process, rewritten for each input.
const std::filesystem::path& pipeline_file() {
  static const std::filesystem::path file = [] {
    char folder[] = "/tmp/customeriq-yaml-fuzz-XXXXXX";
    if (!mkdtemp(folder)) std::abort();
    return std::filesystem::path(folder) / "pipeline.yaml";
  }();
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto& file = pipeline_file();
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  try {
    const customeriq::PipelineConfig config = customeriq::load_pipeline_config(file);
    for (const auto& handler : config.handlers) {
      if (handler.plugin.empty()) customeriq::fuzz::violation(kTarget, input, "a handler without a plugin was accepted");
      for (const auto& type : handler.event_types)
        if (type.empty()) customeriq::fuzz::violation(kTarget, input, "an empty event type was accepted");
      if (!handler.config.is_object())
        customeriq::fuzz::violation(kTarget, input, "a handler's config is not an object: " + handler.config.dump());
    }
    if (config.summarizer && config.summarizer->plugin.empty())
      customeriq::fuzz::violation(kTarget, input, "a summarizer without a plugin was accepted");
    if (config.batch_max_events == 0 || config.queue_capacity == 0 || config.max_event_bytes == 0)
      customeriq::fuzz::violation(kTarget, input, "a zero limit was accepted");
  } catch (const customeriq::ConfigError& error) {
    const std::string_view message = error.what();
    if (!message.starts_with(file.string()))
      customeriq::fuzz::violation(kTarget, input, "the error does not name the file: " + std::string(message));
  } catch (const std::exception& error) {
    customeriq::fuzz::violation(kTarget, input, std::string("threw something other than ConfigError: ") + error.what());
  }
  return 0;
}
