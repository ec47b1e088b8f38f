// The steps of a run, each adding its row(s) to bench.report; main runs
// them in order. Each throws on a failure that ends its step.
#pragma once

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

// profile and search on a (cached) read database.
void run_reads(Bench& bench);

}  // namespace customeriq::bench
