// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status; Debian's Abseil 20220623 ships no status_macros.h.
// ASSIGN_OR_RETURN expands to several statements: wrap it in braces inside an if.
#ifndef TOOLS_CC_STATUS_MACROS_H_
#define TOOLS_CC_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STATUS_MACROS_CONCAT_INNER(a, b) a##b
#define STATUS_MACROS_CONCAT(a, b) STATUS_MACROS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const ::absl::Status status_macro_ = (expr);   \
    if (!status_macro_.ok()) return status_macro_; \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                          \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#define ASSIGN_OR_RETURN(lhs, rexpr) ASSIGN_OR_RETURN_IMPL(STATUS_MACROS_CONCAT(statusor_, __LINE__), lhs, rexpr)

#endif  // TOOLS_CC_STATUS_MACROS_H_
