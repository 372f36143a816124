// Entry point of the xvpc N-API addon: a thin, typed layer over libbpf.
// It only gathers the exports of the files by concern (init.h).
#include <napi.h>

#include "errors.h"
#include "init.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  xvpc::InstallLibbpfLogger();
  xvpc::InitBpfObject(env, exports);
  xvpc::InitMaps(env, exports);
  xvpc::InitMapBatch(env, exports);
  xvpc::InitFds(env, exports);
  xvpc::InitAttach(env, exports);
  xvpc::InitTestRun(env, exports);
  xvpc::InitCapture(env, exports);
  xvpc::InitPcap(env, exports);
  xvpc::InitNetlink(env, exports);
  xvpc::InitNetns(env, exports);
  return exports;
}

NODE_API_MODULE(xvpc, Init)
