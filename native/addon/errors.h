// Turning libbpf/syscall failures into JS exceptions that carry errno.
#pragma once
#include <napi.h>
#include <string>

namespace xvpc {

// Throws a JS Error whose message names the operation and the errno text,
// with `errno` (positive number) and `code` (e.g. "ENOENT") properties.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& what, int err);

// Throws a plain TypeError/Error for bad arguments.
[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg);

// The tail of what libbpf printed during the last call (verifier log etc.).
std::string TakeLibbpfLog();
void InstallLibbpfLogger();

}  // namespace xvpc
