// The `xvpc` command line: help on every command, one-line errors and exit 2
// on bad arguments, the record operations against a running transitd with
// --json, and the counters.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/dataplane/addon.js';
import type { Controller } from '../src/controller/controller.js';
import type { Endpoint } from '../src/controller/endpoint.js';
import type { Droplet } from '../src/droplet/index.js';
import { run } from '../src/util/exec.js';
import { runFilePath, writeRunFile, type RunFile } from '../src/scenario/runfile.js';
import { expectFailedCalls, expectNoPing, expectOnlyFenceRefusals, expectPing, failedTotals, switchScenario, type SwitchScenario } from './func/lib.js';

const CLI = `${repoRoot}dist/cli/main.js`;
const xvpc = (...args: string[]) => run([process.execPath, CLI, ...args], { timeoutMs: 30_000 });
const json = (out: string) => JSON.parse(out);

describe('xvpc --help', () => {
  it('lists the commands, and every command explains itself with an example', async () => {
    const top = await xvpc('--help');
    expect(top.code).toBe(0);
    const names = top.stdout.split('\n').map((l) => /^ {2}([a-z]+) {2,}/.exec(l)?.[1]).filter((n): n is string => !!n);
    expect(names).toEqual(expect.arrayContaining(['demo', 'cleanup', 'capture', 'stats', 'vpc', 'net', 'ep', 'sg', 'records', 'status']));
    // The benchmark is not part of the published CLI: it runs with `npm run bench` (bench/).
    expect(names).not.toContain('bench');
    // Four at a time: each is a process of its own, and there are two dozen
    // commands; -h (the same code path) once.
    const asks = [...names.map((name) => [name, '--help']), [names[0], '-h']];
    for (let i = 0; i < asks.length; i += 4) {
      await Promise.all(asks.slice(i, i + 4).map(async ([name, flag]) => {
        const r = await xvpc(name, flag);
        expect(r.code, `${name} ${flag}`).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^usage: xvpc ${name}`));
        expect(r.stdout).toMatch(new RegExp(`\\nexample:\\n {2}xvpc ${name}\\b`));
      }));
    }
    expect((await xvpc('records', 'vpc', 'get', '--help')).stdout).toMatch(/xvpc records vpc update --vni VNI \[--routers ROUTERS\]/);
    expect((await xvpc('ep', 'create', '--help')).stdout).toMatch(/xvpc ep create --prefix P --vni VNI --net-id NET_ID --ip IP \[--host HOST\]/);
    expect((await xvpc()).code).toBe(0);
  }, 120_000);
});

describe('bad arguments: exit 2 and one line on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['the benchmark, which left the package', ['bench'], /'bench' is not part of the package; .* run: npm run bench/],
    ['unknown option', ['stats', '--prefix', 'p1', '--bogus'], /unknown option '--bogus'/],
    ['missing value', ['records', 'vpc', 'get', '--vni'], /--vni needs a value/],
    ['value on a flag', ['stats', '--prefix', 'p1', '--json=yes'], /--json takes no value/],
    ['a value that reads as an option', ['pingall', 'p1', '--sample', '-1'], /--sample needs a value \(one starting with '-' is given as --sample=VALUE\)/],
    ['bad endpoint address', ['capture', '--prefix', 'p1', '--host', 'a', '--endpoint', '3/999.1.1.1'], /--endpoint must be VNI\/IP/],
    ['no operation', ['records', 'vpc'], /give an operation: get, list, create, update, delete/],
    ['no record kind', ['records'], /give a record kind: vpc, net, ep/],
    ['controller: no operation', ['vpc'], /give an operation: create, list, get, delete/],
    ['controller: missing key', ['net', 'get', '--prefix', 'p1', '--vni', '3'], /--net-id is required/],
    ['controller: no prefix', ['vpc', 'list'], /--prefix is required/],
    ['unknown operation', ['records', 'ep', 'frob'], /unknown operation 'frob'/],
    ['bad VNI', ['records', 'vpc', 'get', '--vni', 'x', '--prefix', 'p1', '--host', 'a'], /--vni must be an integer in 1\.\.16777215, not 'x'/],
    ['VNI out of range', ['records', 'vpc', 'delete', '--vni', '0', '--prefix', 'p1', '--host', 'a'], /--vni must be an integer/],
    ['missing key', ['records', 'net', 'get', '--vni', '3', '--prefix', 'p1', '--host', 'a'], /--cidr is required/],
    ['nothing to update', ['records', 'ep', 'update', '--vni', '3', '--ip', '10.0.0.2', '--prefix', 'p1', '--host', 'a'], /nothing to update/],
    ['missing field on create', ['records', 'net', 'create', '--vni', '3', '--cidr', '10.0.0.0/16', '--net-id', '1', '--prefix', 'p1', '--host', 'a'], /--gateway-ip is required/],
    ['bad endpoint type', ['records', 'ep', 'update', '--vni', '3', '--ip', '10.0.0.2', '--type', 'huge', '--prefix', 'p1', '--host', 'a'], /--type must be one of/],
    ['no host', ['records', 'vpc', 'get', '--vni', '3', '--prefix', 'p1'], /--host is required/],
    ['bad prefix', ['capture', '--prefix', 'Bad!', '--host', 'a'], /--prefix 'Bad!' must be 1-6 characters/],
    ['capture without host', ['capture', '--prefix', 'p1'], /--host is required \(or --underlay\)/],
    ['bad action', ['capture', '--prefix', 'p1', '--host', 'a', '--actions', 'tx,nope'], /--actions: 'nope' is not one of/],
    ['actions on an interface', ['capture', '--prefix', 'p1', '--host', 'a', '-i', 'eth0', '--actions', 'tx'], /--actions and --force are for the data-path hook/],
    ['bad count', ['capture', '--prefix', 'p1', '--host', 'a', '-c', '0'], /--count must be an integer/],
    ['bad format', ['capture', '--prefix', 'p1', '--host', 'a', '-w', 'x', '--format', 'txt'], /--format must be pcapng or pcap/],
    ['bad endpoint', ['capture', '--prefix', 'p1', '--host', 'a', '-i', 'veth0', '--endpoint', '10.0.0.2'], /--endpoint must be VNI\/IP/],
    ['interval without watch', ['stats', '--prefix', 'p1', '--interval', '2'], /--interval and -n go with --watch/],
    ['socket and prefix', ['stats', '--prefix', 'p1', '--socket', '/tmp/x.sock'], /give --socket or --prefix\/--host, not both/],
    ['cleanup extra argument', ['cleanup', 'extra'], /unexpected argument 'extra'/],
    ['status: a bad store, before any host is shown', ['status', '--prefix', 'p1', '--store', 'bogus'], /^xvpc status: --store: 'bogus' is not 'etcd:\/\/host:port/],
    ['a CLI command\'s memory store', ['vpc', 'list', '--prefix', 'p1', '--store', 'memory'], /--store memory: a CLI command's memory store is empty/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await xvpc(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^xvpc[ :]/);
      expect(lines[0]).toMatch(message);
    });
  }

  it('a droplet that does not exist is a failure (exit 1), named in one line', async () => {
    const r = await xvpc('records', 'vpc', 'get', '--vni', '3', '--prefix', 'zz9', '--host', 'nohost');
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([`xvpc records: no droplet 'nohost' in prefix 'zz9' (nothing in /run/xvpc/zz9)`]);
  });
});

describe('a prefix whose xvpc up is still running', () => {
  it('cleanup --prefix and down refuse it (its up would fail its next stage and write its run file again); once it has gone, cleanup removes it', async () => {
    const prefix = `cu${randomBytes(2).toString('hex')}`;
    const up = spawn('sleep', ['60'], { stdio: 'ignore' }); // stands in for the running `xvpc up`
    try {
      await writeRunFile({ prefix, state: 'starting', pid: up.pid!, startedAt: new Date().toISOString(), scenarioFile: 'x.yaml',
        plan: { name: 't' } as unknown as RunFile['plan'], hosts: [], endpoints: [] });
      for (const args of [['cleanup', '--prefix', prefix], ['down', prefix]]) {
        const r = await xvpc(...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr.trim()).toBe(`xvpc ${args[0]}: prefix '${prefix}': its up (pid ${up.pid}) is still running; Ctrl-C it first, or give --force`);
      }
      expect(existsSync(runFilePath(prefix))).toBe(true);
      up.kill('SIGKILL');
      await new Promise((r) => up.once('exit', r));
      const r = await xvpc('cleanup', '--prefix', prefix);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(runFilePath(prefix))).toBe(false);
    } finally {
      up.kill('SIGKILL');
      rmSync(`/run/xvpc/${prefix}`, { recursive: true, force: true });
    }
  });
});

describe('against running droplets', () => {
  let droplets: Record<string, Droplet>;
  let c: Controller<Droplet>;
  let left: Endpoint, other: Endpoint;
  let prefix: string;
  const at = (host = 'left') => ['--prefix', prefix, '--host', host];

  let scenario: SwitchScenario | undefined;

  beforeAll(async () => {
    scenario = await switchScenario('cl', { rightHost: 'switch' });
    ({ droplets, c, left, right: other } = scenario);
    prefix = droplets.left.prefix;
  });

  afterAll(async () => {
    await scenario?.close();
  });

  it('vpc: create, get, update, get, delete, get (NOT_FOUND) with --json', async () => {
    expectFailedCalls(droplets.left, 3); // the second create, and the gets after the delete
    const [S, L] = [droplets.switch.ip, droplets.left.ip];
    let r = await xvpc('records', 'vpc', 'create', ...at(), '--vni', '9', '--routers', S, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ vni: 9, routers: [S], directPath: true });
    r = await xvpc('records', 'vpc', 'create', ...at(), '--vni', '9');
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['xvpc records: left: vpc 9 already exists']);

    r = await xvpc('records', 'vpc', 'get', ...at(), '--vni', '9', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ vni: 9, routers: [S], directPath: true });
    r = await xvpc('records', 'vpc', 'update', ...at(), '--vni', '9', '--routers', `${S},${L}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ vni: 9, routers: [S, L], directPath: true });
    // The same transitd through its socket.
    r = await xvpc('records', 'vpc', 'get', '--socket', `/run/xvpc/${prefix}/left.sock`, '--vni', '9', '--json');
    expect(json(r.stdout).routers).toEqual([S, L]);
    // Human output names the record.
    r = await xvpc('records', 'vpc', 'get', ...at(), '--vni', '9');
    expect(r.stdout).toBe(`vpc 9\n  vni: 9\n  routers: ${S}, ${L}\n  directPath: true\n`);
    r = await xvpc('records', 'vpc', 'list', ...at(), '--json');
    expect(json(r.stdout)).toContainEqual({ vni: 9, routers: [S, L], directPath: true });

    r = await xvpc('records', 'vpc', 'delete', ...at(), '--vni', '9', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ deleted: '9' });
    r = await xvpc('records', 'vpc', 'get', ...at(), '--vni', '9', '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual(['xvpc records: left: vpc 9 does not exist']);
    r = await xvpc('records', 'vpc', 'update', ...at(), '--vni', '9', '--routers', S);
    expect(r.code).toBe(1);
  });

  it('net: get, update (only the fields given), list, delete with --json', async () => {
    expectFailedCalls(droplets.left, 1); // the get after the delete
    let r = await xvpc('records', 'net', 'get', ...at('switch'), '--vni', '3', '--cidr', '10.0.0.0/16', '--json');
    expect(r.code, r.stderr).toBe(0);
    const net = json(r.stdout);
    expect(net).toMatchObject({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: [droplets.switch.ip] });

    r = await xvpc('records', 'net', 'update', ...at('switch'), '--vni', '3', '--cidr', '10.0.0.0/16', '--switches', `${droplets.switch.ip},${droplets.left.ip}`, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ ...net, switches: [droplets.switch.ip, droplets.left.ip] });
    r = await xvpc('records', 'net', 'list', ...at('switch'), '--json');
    expect(json(r.stdout)).toEqual([{ ...net, switches: [droplets.switch.ip, droplets.left.ip] }]);

    r = await xvpc('records', 'net', 'update', ...at('switch'), '--vni', '3', '--cidr', '10.0.0.0/16', '--switches', droplets.switch.ip);
    expect(r.code, r.stderr).toBe(0);
    await expectPing(left, other.ip, 2); // still switched as before

    r = await xvpc('records', 'net', 'delete', ...at('left'), '--vni', '3', '--cidr', '10.0.0.0/16');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('deleted network 3/10.0.0.0/16');
    r = await xvpc('records', 'net', 'get', ...at('left'), '--vni', '3', '--cidr', '10.0.0.0/16', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['xvpc records: left: network 3/10.0.0.0/16 does not exist']);
    // Put it back by hand: left's agent needs it to pick a switch.
    r = await xvpc('records', 'net', 'create', ...at('left'), '--vni', '3', '--cidr', '10.0.0.0/16', '--net-id', '1',
      '--gateway-ip', net.gatewayIp, '--gateway-mac', net.gatewayMac, '--switches', droplets.switch.ip, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual(net);
    await expectPing(left, other.ip, 2);
  });

  it('ep: create, get, update, delete round trip with --json; transitd\'s refusals are one line', async () => {
    expectFailedCalls(droplets.left, 3); // the refused update, the get and the delete after the delete
    const sw = droplets.switch;
    const key = ['--vni', '3', '--ip', '10.0.0.9'];
    let r = await xvpc('records', 'ep', 'create', ...at(), ...key, '--mac', '0e:03:0a:00:00:09', '--host-ip', sw.ip, '--host-mac', sw.mac, '--net-id', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({
      vni: 3, ip: '10.0.0.9', type: 'simple', mac: '0e:03:0a:00:00:09', hostIp: sw.ip, hostMac: sw.mac, netId: 1, backends: [], hostedIfindex: -1,
    });
    r = await xvpc('records', 'ep', 'update', ...at(), ...key, '--mac', '0e:03:0a:00:00:99', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ ip: '10.0.0.9', mac: '0e:03:0a:00:00:99', hostIp: sw.ip });
    r = await xvpc('records', 'ep', 'get', ...at(), ...key, '--json');
    expect(json(r.stdout).mac).toBe('0e:03:0a:00:00:99');

    // The endpoint hosted on left: transitd fills in its veth.
    r = await xvpc('records', 'ep', 'get', ...at(), '--vni', '3', '--ip', left.ip, '--json');
    expect(json(r.stdout)).toMatchObject({ ip: left.ip, mac: left.mac, type: 'simple', hostIp: droplets.left.ip });
    expect(json(r.stdout).hostedIfindex).toBeGreaterThan(0);
    r = await xvpc('records', 'ep', 'list', ...at(), '--json');
    expect(json(r.stdout).map((e: { ip: string }) => e.ip)).toEqual(expect.arrayContaining(['10.0.0.2', '10.0.0.9']));

    // A value transitd refuses is a bad argument: exit 2, its message on one line.
    r = await xvpc('records', 'ep', 'update', ...at(), ...key, '--mac', 'zz:zz');
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^xvpc records: left: mac: /);

    r = await xvpc('records', 'ep', 'delete', ...at(), ...key, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({ deleted: '3/10.0.0.9' });
    r = await xvpc('records', 'ep', 'get', ...at(), ...key);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual(['xvpc records: left: endpoint 3/10.0.0.9 does not exist']);
    r = await xvpc('records', 'ep', 'delete', ...at(), ...key);
    expect(r.code).toBe(1);
  });

  it('stats: counters by name with one column per host, --json, --host, --watch', async () => {
    await expectPing(left, other.ip, 3);
    let r = await xvpc('stats', '--prefix', prefix);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^counter +left +switch$/);
    const encap = rows.find((l) => l.startsWith('encap '));
    expect(encap).toBeDefined();
    const [, l, s] = encap!.trim().split(/ +/).map(Number);
    expect(l).toBeGreaterThanOrEqual(3);
    expect(s).toBeGreaterThanOrEqual(3);
    expect(rows.every((row) => !/^\S+( +0)+$/.test(row))).toBe(true); // all-zero counters are left out

    r = await xvpc('stats', '--prefix', prefix, '--json');
    const all = json(r.stdout);
    expect(Object.keys(all)).toEqual(['left', 'switch']);
    expect(all.left.encap).toBe(l);
    expect(all.switch).toHaveProperty('drop_truncated', 0);

    r = await xvpc('stats', '--prefix', prefix, '--host', 'switch', '--all');
    expect(r.stdout.split('\n')[0]).toMatch(/^counter +switch$/);
    expect(r.stdout).toMatch(/\ndrop_truncated +0\n/);

    r = await xvpc('stats', '--socket', `/run/xvpc/${prefix}/left.sock`, '--json');
    expect(Object.values(json(r.stdout))[0]).toMatchObject({ encap: l });

    r = await xvpc('stats', '--prefix', prefix, '--watch', '--interval', '1', '-n', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const frames = r.stdout.trim().split('\n').map((x) => JSON.parse(x));
    expect(frames).toHaveLength(2);
    expect(frames[1].counters.left.encap).toBeGreaterThanOrEqual(l);

    r = await xvpc('stats', '--prefix', prefix, '--host', 'left', '--watch', '--interval', '1', '-n', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/every 1s\ncounter +left\n/);
    expect(r.stdout).toMatch(/encap +\d+ \(\+0\)/); // the second frame shows what changed

    r = await xvpc('stats', '--prefix', prefix, '--host', 'nobody');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`xvpc stats: no droplet 'nobody' in prefix '${prefix}' (droplets: left, switch)`);
  });

  it('vpc, net, ep and status go through the controller and its store: the CLI sees what the program made, and the other way round', async () => {
    // The test's Controller made VPC 3 with network 1 and two endpoints; the CLI's controller reads the same store.
    let r = await xvpc('status', '--prefix', prefix, '--reconcile'); // the raw-record tests above changed records behind it
    expect(r.code, r.stderr).toBe(0);
    r = await xvpc('status', '--prefix', prefix);
    expect(r.stdout).toMatch(/desired state: 1 VPCs, 1 networks, 2 endpoints in sqlite:\/run\/xvpc\/\w+\/controller\.db/);
    expect(r.stdout).toMatch(/reconcile state: converged \(\d+ records and attachments checked\)/);
    r = await xvpc('vpc', 'list', '--prefix', prefix, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual([{ vni: 3, cidr: '10.0.0.0/16', routers: [], directPath: true }]);
    r = await xvpc('net', 'get', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--json');
    expect(json(r.stdout)).toEqual({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
    r = await xvpc('ep', 'list', '--prefix', prefix, '--vni', '3', '--json');
    expect(json(r.stdout).map((e: { ip: string; host: string }) => `${e.ip}@${e.host}`).sort()).toEqual([`${left.ip}@left`, `${other.ip}@switch`]);

    r = await xvpc('ep', 'create', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.0.0.20', '--host', 'left', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ vni: 3, netId: 1, ip: '10.0.0.20', host: 'left' });
    r = await xvpc('ep', 'create', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.0.0.20', '--host', 'left');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('xvpc ep: ip: endpoint 10.0.0.20 already exists in VPC 3');
    r = await xvpc('ep', 'create', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.9.0.20', '--host', 'left');
    expect(r.code).toBe(2); // validated by the controller: INVALID_ARGUMENT naming the field
    expect(r.stderr).toMatch(/^xvpc ep: ip: 10\.9\.0\.20 is outside network 1's CIDR/);
    // The program's controller sees the CLI's endpoint, and traffic reaches it.
    const made = (await c.listEndpoints({ vni: 3 })).find((e) => e.ip === '10.0.0.20');
    expect(made?.host?.id).toBe('left');
    await expectPing(other, '10.0.0.20', 2);
    r = await xvpc('ep', 'delete', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.0.0.20');
    expect(r.code, r.stderr).toBe(0);
    expect((await c.listEndpoints({ vni: 3 })).map((e) => e.ip)).not.toContain('10.0.0.20');
    r = await xvpc('ep', 'get', '--prefix', prefix, '--vni', '3', '--ip', '10.0.0.20');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('xvpc ep: ip: VPC 3 has no endpoint 10.0.0.20');
    r = await xvpc('status', '--prefix', prefix, '--json');
    const ctl = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((o) => o.controller)?.controller;
    expect(ctl).toMatchObject({ vpcs: 1, networks: 1, endpoints: 2, leading: true, drift: { differ: 0 } });
    // A misspelt host is named with the droplets there are, not shown as a DOWN row.
    r = await xvpc('status', '--prefix', prefix, '--host', 'nope');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^xvpc status: no droplet 'nope' in prefix '\w+' \(droplets: /);
    // capture of an endpoint the host does not have: named, not a failed open of a namespace path.
    r = await xvpc('capture', '--prefix', prefix, '--host', 'left', '--endpoint', '3/10.0.0.99', '-c', '1');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/no endpoint 3\/10\.0\.0\.99 on host left/);
  });

  it('ep create: a flag its type does not take is a usage error (not ignored), and nothing is made', async () => {
    const create = (...extra: string[]) => xvpc('ep', 'create', '--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.0.0.100', ...extra);
    for (const [extra, message] of [
      [['--type', 'scaled', '--backends', left.ip, '--host', 'left'], /^xvpc ep: --host: a scaled endpoint lives on no host/],
      [['--type', 'scaled', '--backends', left.ip, '--security-groups', 'web'], /^xvpc ep: --security-groups: attach groups to a scaled endpoint's backends/],
      [['--host', 'left', '--backends', left.ip], /^xvpc ep: --backends: only a scaled endpoint/],
    ] as const) {
      const r = await create(...extra);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    }
    expect((await c.listEndpoints({ vni: 3 })).map((e) => e.ip)).not.toContain('10.0.0.100');
  });

  it('ep: a scaled endpoint\'s backends are shown by get and list, and replaced by update', async () => {
    const key = ['--prefix', prefix, '--vni', '3', '--net-id', '1', '--ip', '10.0.0.101'];
    let r = await xvpc('ep', 'create', ...key, '--type', 'scaled', '--backends', left.ip);
    expect(r.code, r.stderr).toBe(0);
    try {
      r = await xvpc('ep', 'get', '--prefix', prefix, '--vni', '3', '--ip', '10.0.0.101', '--json');
      expect(json(r.stdout)).toMatchObject({ ip: '10.0.0.101', host: null, backends: [left.ip] });
      r = await xvpc('ep', 'update', ...key, '--backends', `${left.ip},${other.ip}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`endpoint 3/10.0.0.101: backends ${left.ip},${other.ip}`);
      r = await xvpc('ep', 'list', '--prefix', prefix, '--vni', '3');
      expect(r.stdout).toContain(`endpoint 3/10.0.0.101  network 1`);
      expect(r.stdout).toContain(`scaled, backends ${left.ip},${other.ip}`);
      const made = (await c.listEndpoints({ vni: 3 })).find((e) => e.ip === '10.0.0.101');
      expect(made?.backends).toEqual([left.ip, other.ip]);
    } finally {
      r = await xvpc('ep', 'delete', ...key);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('a store other than the prefix\'s own cannot wipe its hosts: --store memory is refused, another store\'s changes are refused by every host', async () => {
    const vpcs = async () => json((await xvpc('vpc', 'list', '--prefix', prefix, '--json')).stdout).map((v: { vni: number }) => v.vni);
    expect(await vpcs()).toEqual([3]);
    let r = await xvpc('vpc', 'create', '--prefix', prefix, '--vni', '9', '--cidr', '10.9.0.0/16', '--store', 'memory');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^xvpc vpc: --store memory: a CLI command's memory store is empty and dies with the command/);

    const otherDb = `/tmp/xvpc-test-${prefix}-other.db`;
    const before = await failedTotals(droplets);
    try {
      r = await xvpc('vpc', 'create', '--prefix', prefix, '--vni', '9', '--cidr', '10.9.0.0/16', '--store', `sqlite:${otherDb}`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refused: this host is programmed by the controllers of another store/);
    } finally {
      for (const ext of ['', '-wal', '-shm']) rmSync(`${otherDb}${ext}`, { force: true });
    }
    expect(await expectOnlyFenceRefusals(before, /^FAILED_PRECONDITION .* refused: this host is programmed by the controllers of another store/)).toBeGreaterThan(0);
    // Nothing of the hosts' went: the prefix's own store and the hosts still agree, and traffic flows.
    expect(await vpcs()).toEqual([3]);
    r = await xvpc('status', '--prefix', prefix);
    expect(r.stdout).toMatch(/reconcile state: converged/);
    await expectPing(left, other.ip, 2);
  });

  it('sg: create, list, get, attach (enforced: ping refused), detach (allowed again), delete; bad rules are one line', async () => {
    const sg = (...args: string[]) => xvpc('sg', ...args, '--prefix', prefix, '--vni', '3');
    let r = await sg('create', '--name', 'web', '--ingress', 'tcp:80@10.0.0.0/24,tcp:8000-8080', '--egress', 'udp:53', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual({
      vni: 3, name: 'web', attachedTo: [],
      ingress: [{ protocol: 'tcp', cidr: '10.0.0.0/24', ports: '80' }, { protocol: 'tcp', cidr: '0.0.0.0/0', ports: '8000-8080' }],
      egress: [{ protocol: 'udp', cidr: '0.0.0.0/0', ports: '53' }],
    });
    r = await sg('create', '--name', 'bad', '--ingress', 'tcp:80-70');
    expect(r.code).toBe(2); // the controller's check, naming the rule
    expect(r.stderr.trim()).toMatch(/^xvpc sg: ingress\[0\]\.ports: '80-70' is reversed/);
    r = await sg('create', '--name', 'bad', '--ingress', 'tcp/80');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^xvpc sg: --ingress: rule 1 'tcp\/80' is not PROTO\[:PORTS\]\[@CIDR\]/);
    expect((await c.listSecurityGroups({ vni: 3 })).map((g) => g.name)).toEqual(['web']); // the refused ones changed nothing

    await expectPing(other, left.ip, 2);
    r = await sg('attach', '--name', 'web', '--ip', left.ip);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`attached security group web to ${left.ip}`);
    r = await sg('list');
    expect(r.stdout.trim()).toBe(`sg 3/web  ingress tcp:80@10.0.0.0/24,tcp:8000-8080  egress udp:53  attached to ${left.ip}`);
    await expectNoPing(other, left.ip); // no rule allows ICMP in
    r = await sg('delete', '--name', 'web');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^xvpc sg: .*attached/);
    r = await sg('detach', '--name', 'web', '--ip', left.ip, '--json');
    expect(json(r.stdout)).toEqual({ detach: true });
    await expectPing(other, left.ip, 2);
    r = await sg('delete', '--name', 'web');
    expect(r.code, r.stderr).toBe(0);
    r = await sg('get', '--name', 'web');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("xvpc sg: name: VPC 3 has no security group 'web'");
  });
});
