// An endpoint's side of its veth, configured from inside its namespace with
// rtnetlink and one ethtool ioctl: what `ip -n NS -batch` and `ethtool -K`
// did as two processes per endpoint (docs/emulation.md "Scale").
#include <napi.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "addon_args.h"
#include "errors.h"
#include "init.h"
#include "netns_scope.h"

namespace xvpc {

namespace {

// A file descriptor closed on every path out.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { if (fd >= 0) close(fd); }
};

// One rtnetlink request under construction: header, family header, attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    auto* h = Header();
    h->nlmsg_len = NLMSG_LENGTH(0);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  }
  nlmsghdr* Header() { return reinterpret_cast<nlmsghdr*>(buf_); }
  template <typename T> T* Family() {
    Header()->nlmsg_len = NLMSG_LENGTH(sizeof(T));
    return reinterpret_cast<T*>(NLMSG_DATA(Header()));
  }
  rtattr* Attr(uint16_t type, const void* data, size_t len) {
    auto* h = Header();
    auto* a = reinterpret_cast<rtattr*>(buf_ + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
    return a;
  }
  // Closes a nested attribute opened with Attr(type, nullptr, 0).
  void End(rtattr* nest) { nest->rta_len = buf_ + Header()->nlmsg_len - reinterpret_cast<char*>(nest); }

 private:
  alignas(nlmsghdr) char buf_[512] = {};
};

// Sends one request and waits for its acknowledgement; returns 0 or a positive errno.
int Transact(int sock, Request& req, uint32_t seq) {
  auto* h = req.Header();
  h->nlmsg_seq = seq;
  if (send(sock, h, h->nlmsg_len, 0) < 0) return errno;
  char reply[4096];
  for (;;) {
    ssize_t n = recv(sock, reply, sizeof(reply), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    for (auto* r = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
      if (r->nlmsg_seq != seq || r->nlmsg_type != NLMSG_ERROR) continue;
      return -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(r))->error;
    }
  }
}

int LinkUp(int sock, int ifindex, uint32_t seq) {
  Request req(RTM_NEWLINK, 0);
  auto* ifi = req.Family<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return Transact(sock, req, seq);
}

// addrgenmode none: no IPv6 link-local address, so no router solicitations.
int AddrGenNone(int sock, int ifindex, uint32_t seq) {
  Request req(RTM_NEWLINK, 0);
  auto* ifi = req.Family<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  rtattr* spec = req.Attr(IFLA_AF_SPEC, nullptr, 0);
  rtattr* inet6 = req.Attr(AF_INET6, nullptr, 0);
  uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
  req.Attr(IFLA_INET6_ADDR_GEN_MODE, &mode, sizeof(mode));
  req.End(inet6);
  req.End(spec);
  return Transact(sock, req, seq);
}

int AddAddress(int sock, int ifindex, in_addr addr, uint8_t prefix_len, uint32_t seq) {
  Request req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = req.Family<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_index = ifindex;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  req.Attr(IFA_LOCAL, &addr, sizeof(addr));
  req.Attr(IFA_ADDRESS, &addr, sizeof(addr));
  return Transact(sock, req, seq);
}

int AddDefaultRoute(int sock, int ifindex, in_addr gateway, uint32_t seq) {
  Request req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rt = req.Family<rtmsg>();
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  uint32_t oif = ifindex;
  req.Attr(RTA_GATEWAY, &gateway, sizeof(gateway));
  req.Attr(RTA_OIF, &oif, sizeof(oif));
  return Transact(sock, req, seq);
}

// The kernel's feature names (ETH_SS_FEATURES) -> bit index, read through `sock`'s namespace.
int FeatureIndexes(int sock, const char* ifname, std::map<std::string, int>& out) {
  // ethtool_sset_info ends in a flexible array: one u32 (the count) follows it.
  std::vector<char> info(sizeof(ethtool_sset_info) + sizeof(uint32_t));
  auto* sset = reinterpret_cast<ethtool_sset_info*>(info.data());
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  ifreq ifr = {};
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  ifr.ifr_data = info.data();
  if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) return errno;
  uint32_t count = sset->data[0];
  std::vector<char> buf(sizeof(ethtool_gstrings) + count * ETH_GSTRING_LEN);
  auto* gs = reinterpret_cast<ethtool_gstrings*>(buf.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_FEATURES;
  gs->len = count;
  ifr.ifr_data = buf.data();
  if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) return errno;
  for (uint32_t i = 0; i < count; i++) {
    const char* s = reinterpret_cast<const char*>(gs->data) + i * ETH_GSTRING_LEN;
    out[std::string(s, strnlen(s, ETH_GSTRING_LEN))] = static_cast<int>(i);
  }
  return 0;
}

// Turns the listed features off (ethtool -K IF name off ...).
int FeaturesOff(int sock, const char* ifname, const std::vector<int>& bits) {
  int max = 0;
  for (int b : bits) max = b > max ? b : max;
  uint32_t blocks = max / 32 + 1;
  std::vector<char> buf(sizeof(ethtool_sfeatures) + blocks * sizeof(ethtool_set_features_block));
  auto* sf = reinterpret_cast<ethtool_sfeatures*>(buf.data());
  sf->cmd = ETHTOOL_SFEATURES;
  sf->size = blocks;
  for (int b : bits) sf->features[b / 32].valid |= 1u << (b % 32);  // requested stays 0: off
  ifreq ifr = {};
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  ifr.ifr_data = buf.data();
  // A positive answer (ETHTOOL_F_WISH...) means the kernel kept a dependent feature as it was.
  return ioctl(sock, SIOCETHTOOL, &ifr) < 0 ? errno : 0;
}

in_addr Ipv4Arg(Napi::Env env, const Napi::Object& o, const char* key, bool optional) {
  in_addr a = {};
  Napi::Value v = o.Get(key);
  if (optional && (v.IsUndefined() || (v.IsString() && v.As<Napi::String>().Utf8Value().empty()))) return a;
  if (!v.IsString() || inet_pton(AF_INET, v.As<Napi::String>().Utf8Value().c_str(), &a) != 1) {
    ThrowType(env, std::string("configureEndpointLink: ") + key + " must be a dotted IPv4 address");
  }
  return a;
}

}  // namespace

// configureEndpointLink(netnsPath, { ifname, ip, prefixLen, gateway?, featuresOff: string[] }):
// inside the namespace: lo up; ifname gets addrgenmode none, its features
// off, ip/prefixLen, up, and a default route via gateway (when given).
static Napi::Value ConfigureEndpointLink(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ns = NetnsArg(info, 0);
  if (ns.empty()) ThrowType(env, "configureEndpointLink: netnsPath must name a namespace");
  if (info.Length() < 2 || !info[1].IsObject()) ThrowType(env, "configureEndpointLink: the second argument must be an object");
  Napi::Object o = info[1].As<Napi::Object>();
  if (!o.Get("ifname").IsString()) ThrowType(env, "configureEndpointLink: ifname must be a string");
  std::string ifname = o.Get("ifname").As<Napi::String>();
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) ThrowType(env, "configureEndpointLink: ifname must be 1-15 characters");
  in_addr ip = Ipv4Arg(env, o, "ip", false);
  in_addr gateway = Ipv4Arg(env, o, "gateway", true);
  if (!o.Get("prefixLen").IsNumber()) ThrowType(env, "configureEndpointLink: prefixLen must be a number");
  uint32_t prefix_len = o.Get("prefixLen").As<Napi::Number>().Uint32Value();
  if (prefix_len > 32) ThrowType(env, "configureEndpointLink: prefixLen must be 0-32");
  std::vector<std::string> off;
  Napi::Value f = o.Get("featuresOff");
  if (!f.IsUndefined()) {
    if (!f.IsArray()) ThrowType(env, "configureEndpointLink: featuresOff must be an array of strings");
    Napi::Array arr = f.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      if (!arr.Get(i).IsString()) ThrowType(env, "configureEndpointLink: featuresOff must be an array of strings");
      off.push_back(arr.Get(i).As<Napi::String>());
    }
  }

  std::string failed;
  int err = 0;
  {
    NetnsScope scope(env, ns);
    // Both sockets belong to the namespace they are made in, whichever the thread enters later.
    Fd nl(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    Fd io(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    unsigned ifindex = if_nametoindex(ifname.c_str());
    uint32_t seq = 0;
    auto step = [&](const std::string& what, int rc) {
      if (rc && !err) { err = rc; failed = what; }
      return !err;
    };
    // Everything that can be checked without changing anything is checked first (the link, the
    // feature names), so such a failure leaves the namespace as it was.
    std::vector<int> bits;
    if (!step("netlink socket", nl.fd < 0 ? errno : 0) || !step("inet socket", io.fd < 0 ? errno : 0)) {
    } else if (!step("find " + ifname, ifindex ? 0 : ENODEV)) {
    } else if (!off.empty()) {
      std::map<std::string, int> names;
      if (step("read feature names", FeatureIndexes(io.fd, ifname.c_str(), names))) {
        for (const auto& n : off) {
          auto it = names.find(n);
          if (it == names.end()) { step("feature " + n + " (the kernel has no such feature)", ENOENT); break; }
          bits.push_back(it->second);
        }
      }
    }
    if (!err && step("lo up", LinkUp(nl.fd, 1, ++seq)) && step("addrgenmode none", AddrGenNone(nl.fd, ifindex, ++seq))
        && (bits.empty() || step("features off", FeaturesOff(io.fd, ifname.c_str(), bits)))
        && step("add address", AddAddress(nl.fd, ifindex, ip, prefix_len, ++seq)) && step("link up", LinkUp(nl.fd, ifindex, ++seq))
        && gateway.s_addr != 0) {
      step("default route", AddDefaultRoute(nl.fd, ifindex, gateway, ++seq));
    }
  }
  if (err) ThrowErrno(env, "configure " + ifname + " in " + ns + ": " + failed, err);
  return env.Undefined();
}

Napi::Object InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("configureEndpointLink", Napi::Function::New(env, ConfigureEndpointLink));
  return exports;
}

}  // namespace xvpc
