// What each file of the addon adds to the module's exports. addon.cc calls
// them all; each file defines its own and calls none of the others.
#pragma once
#include <napi.h>

namespace xvpc {

Napi::Object InitBpfObject(Napi::Env env, Napi::Object exports);  // bpf_object.cc: object loading
Napi::Object InitMaps(Napi::Env env, Napi::Object exports);  // maps.cc: single entries, map info
Napi::Object InitMapBatch(Napi::Env env, Napi::Object exports);  // map_batch.cc: batch and async batch
Napi::Object InitFds(Napi::Env env, Napi::Object exports);  // fds.cc: pins, fds, program ids
Napi::Object InitAttach(Napi::Env env, Napi::Object exports);  // attach.cc: XDP and TC attach
Napi::Object InitTestRun(Napi::Env env, Napi::Object exports);  // test_run.cc: BPF_PROG_TEST_RUN
Napi::Object InitCapture(Napi::Env env, Napi::Object exports);  // capture.cc: raw programs, maps, ring buffer
Napi::Object InitPcap(Napi::Env env, Napi::Object exports);  // pcap.cc: libpcap
Napi::Object InitNetlink(Napi::Env env, Napi::Object exports);  // netlink.cc: an endpoint's link, inside its namespace
Napi::Object InitNetns(Napi::Env env, Napi::Object exports);  // netns.cc: move the calling thread into a namespace

}  // namespace xvpc
