// Errors of the database as a whole, as opposed to errors of one event.
#pragma once

#include <stdexcept>

namespace customeriq {

// The database cannot be used: it cannot be opened or created, is corrupt,
// read-only, of a foreign or newer schema, or failed with an I/O error.
// Messages name the file. Commands exit 3 on it.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure that may pass (busy past the timeout, locked, disk full): the
// batch was rolled back and may be tried again.
class TransientStoreError : public StoreError {
 public:
  using StoreError::StoreError;
};

}  // namespace customeriq
