#pragma once
// Random (version 4) UUIDs, e.g. for X-Vcap-Request-Id and router ids.
// Any thread: each thread has its own generator, seeded from the OS.
#include <string>

namespace sy {

std::string new_uuid();
// Writes 36 characters to `out` (no terminator).
void new_uuid(char* out);

}  // namespace sy
