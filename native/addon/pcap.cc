// libpcap in the addon: compiling tcpdump expressions to classic BPF (the
// XDP capture translates them to eBPF in src/capture/cbpf.ts), libpcap's own
// classic BPF interpreter (the reference the translation is tested against),
// and live captures on ordinary interfaces inside a network namespace.
//
//   pcapCompile(expr, snaplen, linktype = DLT_EN10MB) -> Buffer (struct bpf_insn[], 8 bytes each)
//   pcapFilter(insns, packet, wireLen = packet.length) -> classic BPF result (0: no match)
//   new PcapLive(iface, { netns?, snaplen?, promisc?, bufferSize?, filter? })
//     .dispatch(max) -> { sec, nsec, len, data }[]  .datalink  .snaplen  .stats()  .close()
#include <napi.h>
#include <pcap/pcap.h>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "errors.h"
#include "init.h"
#include "addon_args.h"
#include "netns_scope.h"

namespace xvpc {

// ---- libpcap: compiling filters --------------------------------------------

static Napi::Value PcapCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expr = StrArg(info, 0, "pcapCompile", "expression");
  uint32_t snaplen = U32Arg(info, 1, "pcapCompile", "snaplen");
  int linktype = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : DLT_EN10MB;
  pcap_t* p = pcap_open_dead(linktype, (int)snaplen);
  if (!p) throw Napi::Error::New(env, "pcap_open_dead failed");
  struct bpf_program prog = {};
  if (pcap_compile(p, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string msg = pcap_geterr(p);
    pcap_close(p);
    Napi::Error e = Napi::Error::New(env, "filter '" + expr + "': " + msg);
    e.Set("code", Napi::String::New(env, "EFILTER"));
    throw e;
  }
  auto out = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(prog.bf_insns), prog.bf_len * sizeof(struct bpf_insn));
  pcap_freecode(&prog);
  pcap_close(p);
  return out;
}

// pcapFilter(insns, packet, wireLen): runs classic BPF in user space (libpcap's
// own interpreter): the reference the eBPF translation is tested against.
static Napi::Value PcapFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsBuffer() || !info[1].IsBuffer()) ThrowType(env, "pcapFilter(insns, packet): Buffers");
  auto insns = info[0].As<Napi::Buffer<uint8_t>>();
  auto pkt = info[1].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn)) ThrowType(env, "pcapFilter: insns must hold whole instructions");
  uint32_t wire = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : (uint32_t)pkt.Length();
  std::vector<struct bpf_insn> copy(insns.Length() / sizeof(struct bpf_insn));
  memcpy(copy.data(), insns.Data(), insns.Length());
  u_int r = bpf_filter(copy.data(), pkt.Data(), wire, (u_int)pkt.Length());
  return Napi::Number::New(env, r);
}

// ---- libpcap live capture -------------------------------------------------------

class PcapLive : public Napi::ObjectWrap<PcapLive> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PcapLive", {
                                            InstanceMethod("dispatch", &PcapLive::Dispatch),
                                            InstanceMethod("stats", &PcapLive::Stats),
                                            InstanceMethod("close", &PcapLive::Close),
                                            InstanceAccessor("datalink", &PcapLive::Datalink, nullptr),
                                            InstanceAccessor("snaplen", &PcapLive::Snaplen, nullptr),
                                        });
  }

  // new PcapLive(iface, { netns, snaplen, promisc, bufferSize, filter }): opened
  // (and the socket bound) inside netns; it stays there after we switch back.
  explicit PcapLive(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PcapLive>(info) {
    Napi::Env env = info.Env();
    std::string iface = StrArg(info, 0, "PcapLive", "interface");
    std::string netns, filter;
    uint32_t snaplen = 262144, buffer = 4 << 20;
    bool promisc = true;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      if (o.Has("netns") && o.Get("netns").IsString()) netns = o.Get("netns").As<Napi::String>();
      if (o.Has("filter") && o.Get("filter").IsString()) filter = o.Get("filter").As<Napi::String>();
      snaplen = OptU32(o, "snaplen", snaplen);
      buffer = OptU32(o, "bufferSize", buffer);
      if (o.Has("promisc") && o.Get("promisc").IsBoolean()) promisc = o.Get("promisc").As<Napi::Boolean>();
    }
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    {
      NetnsScope scope(env, netns);
      p_ = pcap_create(iface.c_str(), errbuf);
      if (!p_) Fail(env, iface + ": " + errbuf);
      pcap_set_snaplen(p_, (int)snaplen);
      pcap_set_promisc(p_, promisc ? 1 : 0);
      pcap_set_immediate_mode(p_, 1);
      pcap_set_buffer_size(p_, (int)buffer);
      pcap_set_tstamp_precision(p_, PCAP_TSTAMP_PRECISION_NANO);
      int rc = pcap_activate(p_);
      if (rc < 0) Fail(env, iface + (netns.empty() ? "" : " in " + netns) + ": " + pcap_geterr(p_));
    }
    nano_ = pcap_get_tstamp_precision(p_) == PCAP_TSTAMP_PRECISION_NANO;
    if (!filter.empty()) {
      struct bpf_program prog = {};
      if (pcap_compile(p_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        Fail(env, "filter '" + filter + "': " + pcap_geterr(p_), "EFILTER");
      int rc = pcap_setfilter(p_, &prog);  // attached to the socket: filtered in the kernel
      pcap_freecode(&prog);
      if (rc != 0) Fail(env, "set filter: " + std::string(pcap_geterr(p_)));
    }
    if (pcap_setnonblock(p_, 1, errbuf) != 0) Fail(env, std::string("non-blocking: ") + errbuf);
  }
  ~PcapLive() override { Free(); }

 private:
  pcap_t* p_ = nullptr;
  bool nano_ = false;
  struct Packet {
    uint64_t sec;
    uint32_t nsec;
    uint32_t len;
    std::vector<uint8_t> data;
  };
  std::vector<Packet> pending_;

  void Free() {
    if (p_) pcap_close(p_);
    p_ = nullptr;
  }

  [[noreturn]] void Fail(Napi::Env env, const std::string& msg, const char* code = "EPCAP") {
    Free();
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("code", Napi::String::New(env, code));
    throw e;
  }

  static void OnPacket(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<PcapLive*>(user);
    Packet p;
    p.sec = (uint64_t)h->ts.tv_sec;
    p.nsec = self->nano_ ? (uint32_t)h->ts.tv_usec : (uint32_t)h->ts.tv_usec * 1000;
    p.len = h->len;
    p.data.assign(bytes, bytes + h->caplen);
    self->pending_.push_back(std::move(p));
  }

  // dispatch(max = 1024) -> packets ready now (non-blocking).
  Napi::Value Dispatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!p_) throw Napi::Error::New(env, "capture is closed");
    int max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1024;
    pending_.clear();
    int rc = pcap_dispatch(p_, max, &PcapLive::OnPacket, reinterpret_cast<u_char*>(this));
    if (rc == PCAP_ERROR) {
      std::string msg = pcap_geterr(p_);
      pending_.clear();
      Napi::Error e = Napi::Error::New(env, "capture: " + msg);
      e.Set("code", Napi::String::New(env, "EPCAP"));
      throw e;
    }
    Napi::Array out = Napi::Array::New(env, pending_.size());
    for (size_t i = 0; i < pending_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("sec", Napi::Number::New(env, (double)pending_[i].sec));
      o.Set("nsec", pending_[i].nsec);
      o.Set("len", pending_[i].len);
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, pending_[i].data.data(), pending_[i].data.size()));
      out.Set((uint32_t)i, o);
    }
    pending_.clear();
    return out;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!p_) throw Napi::Error::New(env, "capture is closed");
    struct pcap_stat st = {};
    if (pcap_stats(p_, &st) != 0) throw Napi::Error::New(env, std::string("capture stats: ") + pcap_geterr(p_));
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", st.ps_recv);
    o.Set("dropped", st.ps_drop);
    o.Set("ifDropped", st.ps_ifdrop);
    return o;
  }

  Napi::Value Datalink(const Napi::CallbackInfo& info) {
    if (!p_) throw Napi::Error::New(info.Env(), "capture is closed");
    return Napi::Number::New(info.Env(), pcap_datalink(p_));
  }

  Napi::Value Snaplen(const Napi::CallbackInfo& info) {
    if (!p_) throw Napi::Error::New(info.Env(), "capture is closed");
    return Napi::Number::New(info.Env(), pcap_snapshot(p_));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Free();
    return info.Env().Undefined();
  }
};

Napi::Object InitPcap(Napi::Env env, Napi::Object exports) {
  exports.Set("pcapCompile", Napi::Function::New(env, PcapCompile));
  exports.Set("pcapFilter", Napi::Function::New(env, PcapFilter));
  exports.Set("PcapLive", PcapLive::Define(env));
  return exports;
}

}  // namespace xvpc
