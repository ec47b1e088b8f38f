// The SQL of an open work order, and of the order the most pressing come
// first in, as string literals so that a migration is built from the same
// text at compile time: SQLite uses a partial index, or an index on an
// expression, only for a query that spells them the same way.
#pragma once

#include <string>

#define CUSTOMERIQ_SQL_OPEN_WORK_ORDER                             \
  "completed_date IS NULL AND lower(coalesce(status, '')) NOT IN " \
  "('completed', 'closed', 'resolved', 'done', 'cancelled', 'canceled')"

#define CUSTOMERIQ_SQL_PRIORITY_RANK                                                                 \
  "CASE lower(priority) WHEN 'critical' THEN 0 WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' " \
  "THEN 2 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"

// NULLs first, as ORDER BY created_date puts them, but comparable in a keyset.
#define CUSTOMERIQ_SQL_CREATED_KEY "coalesce(created_date, -9223372036854775808)"

namespace customeriq {

// The statement behind StoreReader::open_work_orders_page: ?1 the customer
// id (one_customer only), ?2 ?3 ?4 the keyset to start after, ?5 the limit.
std::string open_work_orders_page_query(bool one_customer);

}  // namespace customeriq
