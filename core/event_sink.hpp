// EventSink: where a source hands the messages it receives. Sources see
// only this, never the pipeline, the writer or the store.
#pragma once

#include "work_item.hpp"

namespace customeriq {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Takes the message; blocks while the sink is full (backpressure). The
  // message's ack function is called once its outcome is settled (after the
  // commit that holds it). Any thread.
  virtual void submit(RawMessage message) = 0;

  // Returns once everything submitted before the call is settled and acked.
  virtual void flush() = 0;

 protected:
  EventSink() = default;
};

}  // namespace customeriq
