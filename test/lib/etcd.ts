// The etcd tests start theirs as the bench does (bench/etcd.ts: test/ may use bench/, never the reverse).
export { freePort, startEtcd, type TestEtcd } from '../../bench/etcd.js';
