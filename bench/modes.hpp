// The steps of a run, each adding its row(s) to bench.report; main runs
// them in order. Each throws on a failure that ends its step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "bench.hpp"

namespace customeriq::bench {

// (a), (a'), (a''): the bench's child (`--internal MODE`, MODE ceiling,
// writer or writer_durable) writes the event file in 1,000-event batches;
// key names the row and its database, variant a ceiling schema experiment.
void run_batch_mode(Bench& bench, const std::string& key, const std::string& mode, const std::string& label,
                    const std::string& variant = "");

// (b): `customeriq ingest FILE`.
void run_ingest(Bench& bench, bool tuned = false);

// (c) core NATS or (d) JetStream: `customeriq serve` and a full-speed publisher.
void run_serve(Bench& bench, bool jetstream);

// Latency phases at the offered rate: (b) `ingest -` fed on stdin, and
// (c)/(d) serve fed by a publisher.
void run_ingest_latency(Bench& bench, bool tuned = false);
void run_serve_latency(Bench& bench, bool jetstream, bool tuned = false);

// (b'): Pipeline + StoreWriter + WriterThread in a bench child, exact
// latency from its CommitObserver; delay_ms < 0: the default config's delay.
void run_inproc_latency(Bench& bench, int delay_ms);

// The read database of n events over customers (built by an (a) child
// unless cached in the work dir); its facts into `facts`.
std::filesystem::path ensure_read_db(const Bench& bench, std::uint64_t n, std::uint32_t customers,
                                     std::uint64_t seed, Json& facts);

// profile and search on a (cached) read database.
void run_reads(Bench& bench);

// serve's HTTP API on a copy of the read database: profile and timeline
// requests at 64 connections (alone and beside ingest at 5,000 events/s),
// against the in-process read; stream fan-out to 1,000 clients and what
// idle streams cost.
void run_http(Bench& bench);

}  // namespace customeriq::bench
