/** The vsphere platform's parts that need no server: XML, SOAP faults and timeouts, samples, config, credentials. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { loadVsphereConfig, readCredentials } from '../../src/platforms/vsphere/config.ts';
import { MigrationEvents, migrationEventRecord, pickMigrationEvent } from '../../src/platforms/vsphere/migration-event.ts';
import { selectMetrics } from '../../src/platforms/vsphere/perf-metrics.ts';
import { averageSeries } from '../../src/platforms/vsphere/sample-window.ts';
import { SoapTransport, TransportError, VimFault, type CallLimits } from '../../src/platforms/vsphere/soap.ts';
import { VimSession } from '../../src/platforms/vsphere/session.ts';
import { VimClient, type TaskInfo, type VimEvent } from '../../src/platforms/vsphere/vim-client.ts';
import { child, childText, el, fragment, parseXml } from '../../src/platforms/vsphere/xml.ts';

const MIB = 1024 * 1024;
const limits = (timeoutMs: number, maxResponseMiB = 1): CallLimits => ({ timeoutMs, maxResponseMiB });

describe('vim25 XML', () => {
  it('resolves xsi:type whatever prefix the server bound the namespace to', () => {
    const doc = parseXml(
      '<?xml version="1.0"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>' +
        '<R xmlns="urn:vim25" xmlns:inst="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:vim25">' +
        '<val inst:type="v:ManagedObjectReference" type="HostSystem">host-1</val>' +
        '<val xmlns:xsi="urn:not-xsi" xsi:type="Decoy">x</val>' +
        '<name>a &amp; b &#x41;</name></R></S:Body></S:Envelope>',
    );
    assert.deepEqual(doc.name, { ns: 'http://schemas.xmlsoap.org/soap/envelope/', local: 'Envelope' });
    const r = child(child(doc, 'Body'), 'R')!;
    assert.deepEqual(r.name, { ns: 'urn:vim25', local: 'R' });
    const [ref, decoy] = r.children;
    assert.deepEqual(ref!.xsiType, { ns: 'urn:vim25', local: 'ManagedObjectReference' });
    assert.equal(ref!.attributes.get('type'), 'HostSystem');
    assert.equal(ref!.text, 'host-1');
    assert.equal(decoy!.xsiType, undefined, 'a "type" attribute in another namespace is not xsi:type');
    assert.equal(childText(r, 'name'), 'a & b A');
  });

  it('escapes what it writes and leaves out absent optional elements', () => {
    assert.equal(el('password', `<&>"'`).xml, '<password>&lt;&amp;&gt;&quot;&apos;</password>');
    assert.equal(el('x', fragment(el('a', 1), el('b', undefined), el('c', false)), { type: 'T"' }).xml, '<x type="T&quot;"><a>1</a><c>false</c></x>');
  });
});

describe('SOAP transport', () => {
  let server: Server;
  let url: URL;
  before(async () => {
    server = createServer((req, res) => {
      if (req.headers.soapaction === 'urn:vim25/silent') return; // never answers
      res.statusCode = 500;
      res.setHeader('content-type', 'text/xml');
      res.end(
        '<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">' +
          '<e:Body><e:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The object has already been deleted</faultstring>' +
          '<detail><ManagedObjectNotFoundFault xmlns="urn:vim25" i:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-9</obj>' +
          '</ManagedObjectNotFoundFault></detail></e:Fault></e:Body></e:Envelope>',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('turns a fault into a VimFault with its type and message', async () => {
    const transport = new SoapTransport(url, { insecure: false }, limits(5000));
    try {
      await assert.rejects(transport.call('RelocateVM_Task', { type: 'VirtualMachine', value: 'vm-9' }), (error: unknown) => {
        assert.ok(error instanceof VimFault);
        assert.equal(error.faultName, 'ManagedObjectNotFound');
        assert.equal(error.message, 'RelocateVM_Task: ManagedObjectNotFound: The object has already been deleted');
        assert.equal(child(error.detail, 'obj')?.text, 'vm-9');
        return true;
      });
    } finally {
      await transport.close();
    }
  });

  it('gives up on a call that gets no answer within its timeout', async () => {
    const transport = new SoapTransport(url, { insecure: false }, limits(300));
    transport.soapAction = 'urn:vim25/silent';
    const started = performance.now();
    try {
      await assert.rejects(transport.call('QueryPerf', { type: 'PerformanceManager', value: 'PerfMgr' }), (error: unknown) => {
        assert.ok(error instanceof TransportError);
        assert.equal(error.kind, 'timeout');
        assert.match(error.message, /^QueryPerf: no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.3 s$/);
        return true;
      });
      assert.ok(performance.now() - started < 3000);
    } finally {
      await transport.close();
    }
  });
});

describe('SOAP answer size', () => {
  let server: Server;
  let url: URL;
  /** What the server sent of its last answer, and a promise settled when the client hung up on it. */
  let sent = 0;
  let hungUp: Promise<void>;
  before(async () => {
    server = createServer((req, res) => {
      sent = 0;
      hungUp = new Promise((resolve) => res.on('close', resolve));
      const chunk = Buffer.alloc(64 * 1024, 'x');
      if (req.headers.soapaction === 'urn:vim25/declared') {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(1024 * MIB) });
        res.write(chunk);
        sent = chunk.length;
        return; // and nothing more: a client that waits for the rest waits for its timeout
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      const pour = (): void => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        sent += chunk.length;
      };
      res.on('drain', pour);
      pour();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const tooLarge = (error: unknown): boolean => {
    assert.ok(error instanceof TransportError);
    assert.equal(error.kind, 'too-large');
    assert.match(error.message, /^QueryPerf: the answer from http:\/\/127\.0\.0\.1:\d+ is larger than 1 MiB \(maxResponseMiB in the vsphere config\)$/);
    return true;
  };

  for (const [answer, soapAction] of [['an endless answer', 'urn:vim25/endless'], ['an answer declared too long', 'urn:vim25/declared']] as const) {
    it(`stops reading ${answer} at the cap and hangs up`, async () => {
      const transport = new SoapTransport(url, { insecure: false }, limits(60_000, 1));
      transport.soapAction = soapAction;
      const started = performance.now();
      try {
        await assert.rejects(transport.call('QueryPerf', { type: 'PerformanceManager', value: 'PerfMgr' }), tooLarge);
        assert.ok(performance.now() - started < 10_000, 'failed at the cap, not at the call timeout');
        await Promise.race([hungUp, new Promise((_, reject) => setTimeout(() => reject(new Error('the connection is still open')), 5000).unref())]);
        // The cap plus what the loopback socket's buffers took in before the client hung up.
        assert.ok(sent < 24 * MIB, `the server sent ${sent} bytes`);
      } finally {
        await transport.close();
      }
    });
  }
});

describe('sample windows', () => {
  const t = (s: number): number => s * 1000;
  it('averages the samples newer than the last one seen, in either order, without "no data"', () => {
    assert.equal(averageSeries([t(40), t(20), t(0)], [30, 20, 10], -Infinity), 20);
    assert.equal(averageSeries([t(0), t(20), t(40)], [10, 20, 30], t(0)), 25);
    assert.equal(averageSeries([t(0), t(20), t(40)], [10, -1, 30], t(0)), 30);
    assert.equal(averageSeries([t(0)], [10], t(0)), undefined, 'nothing new');
    assert.equal(averageSeries([], [], -Infinity), undefined);
  });
  it('counts values a server left out (vcsim drops zeros) as zeros', () => {
    assert.equal(averageSeries([t(40), t(20), t(0)], [30], t(-20)), 10);
    assert.equal(averageSeries([t(40), t(20)], [], -Infinity), 0);
  });
});

describe('metric selection', () => {
  const counters = new Map([
    [6, { key: 6, name: 'cpu.usagemhz.average', unit: 'MHz' }],
    [143, { key: 143, name: 'net.usage.average', unit: 'KBps' }],
  ]);
  const available = [
    { counterId: 6, instance: '' },
    { counterId: 143, instance: '' },
    { counterId: 143, instance: 'vmnic0' },
    { counterId: 143, instance: 'vmnic1' },
    { counterId: 99, instance: '' },
  ];
  it('takes each instance, not the aggregate, where there are instances (the seed\'s mean)', () => {
    assert.deepEqual(selectMetrics(available, counters, 'each'), [
      { counterId: 6, instance: '' },
      { counterId: 143, instance: 'vmnic0' },
      { counterId: 143, instance: 'vmnic1' },
    ]);
  });
  it('or only the host-wide aggregate', () => {
    assert.deepEqual(selectMetrics(available, counters, 'aggregate'), [
      { counterId: 6, instance: '' },
      { counterId: 143, instance: '' },
    ]);
  });
});

describe('vsphere config and credentials', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsphere-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string, mode = 0o600): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    fs.chmodSync(file, mode);
    return file;
  };

  it('reads a config with defaults', () => {
    const config = loadVsphereConfig(write('ok.yaml', 'url: https://vc.example/sdk\nload:\n  url: http://lb.example:8080\n'));
    assert.equal(config.instances, 'each');
    assert.equal(config.migrationMethod, 'auto');
    assert.deepEqual(config.load.paths, { cpu: '/cpu', memory: '/memory', memory2: '/memory2' });
    assert.deepEqual(config.timeouts, { callSeconds: 60, migrationSeconds: 3600, taskPollSeconds: 1 });
    assert.equal(config.maxResponseMiB, 16);
  });

  it('points at the line and column of a bad value', () => {
    const file = write('bad.yaml', 'url: https://vc.example/sdk\nload:\n  url: http://lb\ntimeouts:\n  callSeconds: -1\n');
    assert.throws(() => loadVsphereConfig(file), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.toOneLine(), /bad\.yaml:5:16: timeouts\.callSeconds: /);
      return true;
    });
  });

  it('refuses credentials in the URL, plain http, and a missing config', () => {
    assert.throws(() => loadVsphereConfig(write('u.yaml', 'url: https://me:secret@vc.example/sdk\nload: {url: http://lb}\n')), /url must not carry credentials/);
    assert.throws(() => loadVsphereConfig(write('h.yaml', 'url: http://vc.example/sdk\nload: {url: http://lb}\n')), /url: /);
    assert.throws(() => loadVsphereConfig(undefined), /needs --config/);
  });

  it('reads credentials from the environment, naming the variables that are missing', () => {
    const env = { VSPHERE_USERNAME: 'me', VSPHERE_PASSWORD: 'pw' };
    assert.deepEqual(readCredentials({}, env), { username: 'me', password: 'pw', source: { env: 'VSPHERE_USERNAME, VSPHERE_PASSWORD' } });
    assert.throws(() => readCredentials({ usernameEnv: 'U', passwordEnv: 'P' }, { U: 'me' }), /set the environment variable P$/);
  });

  it('reads an owner-only credentials file and refuses one others can read', () => {
    const good = write('creds', '# vCenter\nusername=administrator@vsphere.local\npassword=a=b c#d\n');
    assert.deepEqual(readCredentials({ file: good }), { username: 'administrator@vsphere.local', password: 'a=b c#d', source: { file: good } });
    const open = write('open-creds', 'username=me\npassword=hunter2\n', 0o644);
    assert.throws(() => readCredentials({ file: open }), /readable by others \(mode 644\): chmod 600/);
    const group = write('group-creds', 'username=me\npassword=hunter2\n', 0o640);
    assert.throws(() => readCredentials({ file: group }), /readable by others/);
  });

  it('refuses a credentials file that is not a regular file, and one past the size limit, without reading it whole', () => {
    assert.throws(() => readCredentials({ file: '/dev/zero' }), /\/dev\/zero is not a regular file/);
    const huge = write('huge-creds', `username=me\npassword=${'x'.repeat(2 * 1024 * 1024)}\n`);
    assert.throws(() => readCredentials({ file: huge }), (error: unknown) => error instanceof InputError && /larger than 1 MiB/.test(error.message) && !error.message.includes('xxxx'));
  });

  it('never quotes a credentials file line in its errors', () => {
    const file = write('typo', 'username=me\npasword=hunter2\n');
    assert.throws(() => readCredentials({ file }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /typo:2: expected username=\.\.\. or password=\.\.\./);
      assert.ok(!error.message.includes('hunter2'));
      return true;
    });
  });
});

describe('vim25 client against a scripted server', () => {
  /** Answers each method with the body given for it; records the calls. */
  function scriptedServer(answers: Record<string, string[]>): Promise<{ server: Server; url: URL; calls: string[]; bodies: string[] }> {
    const calls: string[] = [];
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const method = /<soapenv:Body><(\w+)/.exec(body)?.[1] ?? '';
        calls.push(method);
        bodies.push(body);
        const answer = answers[method]?.shift() ?? '';
        res.setHeader('content-type', 'text/xml');
        res.end(
          '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>' +
            `<${method}Response xmlns="urn:vim25">${answer}</${method}Response></soapenv:Body></soapenv:Envelope>`,
        );
      });
    });
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve({ server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`), calls, bodies })),
    );
  }
  const serviceContent =
    '<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>' +
    '<viewManager type="ViewManager">ViewManager</viewManager><about><fullName>VMware vCenter Server 8.0.2</fullName><apiType>VirtualCenter</apiType>' +
    '<apiVersion>8.0.2.0</apiVersion></about><sessionManager type="SessionManager">SessionManager</sessionManager>' +
    '<perfManager type="PerformanceManager">PerfMgr</perfManager></returnval>';
  const vm = (n: number): string =>
    `<objects><obj type="VirtualMachine">vm-${n}</obj><propSet><name>name</name><val xsi:type="xsd:string">vm${n}</val></propSet></objects>`;

  it('follows ContinueRetrievePropertiesEx tokens to the last page', async () => {
    const { server, url, calls } = await scriptedServer({
      RetrieveServiceContent: [serviceContent],
      RetrievePropertiesEx: [`<returnval><token>t1</token>${vm(1)}${vm(2)}</returnval>`],
      ContinueRetrievePropertiesEx: [`<returnval><token>t2</token>${vm(3)}</returnval>`, `<returnval>${vm(4)}</returnval>`],
    });
    const client = await VimClient.connect(url, { insecure: false }, limits(5000));
    try {
      const objects = await client.retrieveProperties({
        propSet: [{ type: 'VirtualMachine', pathSet: ['name'] }],
        objectSet: [{ obj: { type: 'ContainerView', value: 'v1' }, skip: true, traverseView: true }],
      });
      assert.deepEqual(objects.map((o) => o.props.get('name')?.text), ['vm1', 'vm2', 'vm3', 'vm4']);
      assert.deepEqual(calls, ['RetrieveServiceContent', 'RetrievePropertiesEx', 'ContinueRetrievePropertiesEx', 'ContinueRetrievePropertiesEx']);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('asks QueryEvents for a VM\'s migrated events since the task started, and reads them whatever prefix types them', async () => {
    const withEvents = serviceContent.replace('</returnval>', '<eventManager type="EventManager">EventManager</eventManager></returnval>');
    const vmMigrated =
      '<returnval xsi:type="VmMigratedEvent"><key>31</key><chainId>30</chainId><createdTime>2024-05-01T10:00:12.700123Z</createdTime>' +
      '<userName>VSPHERE.LOCAL\\Administrator</userName><datacenter><name>DC0</name><datacenter type="Datacenter">datacenter-2</datacenter></datacenter>' +
      '<host><name>esx2</name><host type="HostSystem">host-20</host></host><vm><name>vm01</name><vm type="VirtualMachine">vm-42</vm></vm>' +
      '<fullFormattedMessage>Migration of virtual machine vm01 from esx1, ds1 to esx2, ds1 completed </fullFormattedMessage><template>false</template>' +
      '<sourceHost><name>esx1</name><host type="HostSystem">host-10</host></sourceHost></returnval>';
    const drs =
      '<returnval xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:v="urn:vim25" i:type="v:DrsVmMigratedEvent"><key>40</key>' +
      '<createdTime>2024-05-01T11:00:00Z</createdTime><host><name>esx1</name><host type="HostSystem">host-10</host></host>' +
      '<sourceHost><name>esx2</name><host type="HostSystem">host-20</host></sourceHost></returnval>';
    const noTime = '<returnval xsi:type="VmMigratedEvent"><key>41</key></returnval>';
    const { server, url, calls, bodies } = await scriptedServer({ RetrieveServiceContent: [withEvents], QueryEvents: [vmMigrated + drs + noTime] });
    const client = await VimClient.connect(url, { insecure: false }, limits(5000));
    try {
      const since = { text: '2024-05-01T10:00:00.250123Z', date: new Date('2024-05-01T10:00:00.250Z') };
      const events = await client.queryEvents({ entity: { type: 'VirtualMachine', value: 'vm-42' }, eventTypes: ['VmMigratedEvent', 'DrsVmMigratedEvent'], since, maxCount: 100 });
      assert.equal(calls[1], 'QueryEvents');
      assert.ok(
        bodies[1]!.includes(
          '<_this type="EventManager">EventManager</_this><filter><entity><entity type="VirtualMachine">vm-42</entity><recursion>self</recursion></entity>' +
            '<time><beginTime>2024-05-01T10:00:00.250123Z</beginTime></time><eventTypeId>VmMigratedEvent</eventTypeId>' +
            '<eventTypeId>DrsVmMigratedEvent</eventTypeId><maxCount>100</maxCount></filter>',
        ),
        bodies[1],
      );
      assert.deepEqual(
        events.map((e) => ({ ...e, createdTime: e.createdTime.text })),
        [
          {
            type: 'VmMigratedEvent', key: 31, chainId: 30, createdTime: '2024-05-01T10:00:12.700123Z', vm: 'vm01', host: 'esx2', sourceHost: 'esx1',
            message: 'Migration of virtual machine vm01 from esx1, ds1 to esx2, ds1 completed',
          },
          { type: 'DrsVmMigratedEvent', key: 40, chainId: undefined, createdTime: '2024-05-01T11:00:00Z', vm: undefined, host: 'esx1', sourceHost: 'esx2', message: '' },
        ],
        'the event without a creation time is left out',
      );
    } finally {
      await client.close();
      server.close();
    }
  });

  it('records no event, and warns once, for a server without an EventManager', async () => {
    const { server, url, calls } = await scriptedServer({ RetrieveServiceContent: [serviceContent] });
    const client = await VimClient.connect(url, { insecure: false }, limits(5000));
    const warnings: string[] = [];
    const events = new MigrationEvents(new VimSession(client, { username: 'u', password: 'p', source: {} }, url.href), (m) => warnings.push(m));
    try {
      const info: TaskInfo = { state: 'success', queueTime: undefined, startTime: undefined, completeTime: undefined, eventChainId: undefined, error: undefined };
      assert.equal(await events.find({ type: 'VirtualMachine', value: 'vm-42' }, info, 'esx2'), null);
      assert.equal(await events.find({ type: 'VirtualMachine', value: 'vm-42' }, info, 'esx2'), null);
      assert.deepEqual(warnings, ['vSphere: migrations are recorded without their VmMigratedEvent: QueryEvents: NotSupported: the server has no EventManager']);
      assert.deepEqual(calls, ['RetrieveServiceContent'], 'nothing asked of a server that cannot answer');
    } finally {
      await client.close();
      server.close();
    }
  });

  it('reads a failed task: state, times and the fault', async () => {
    const taskInfo =
      '<returnval><objects><obj type="Task">task-7</obj><propSet><name>info</name><val xsi:type="TaskInfo">' +
      '<key>task-7</key><task type="Task">task-7</task><name>MigrateVM_Task</name><state>error</state>' +
      '<error><fault xsi:type="MigrationNotReady"><reason>vMotion is not enabled</reason></fault>' +
      '<localizedMessage>The migration has exceeded the maximum switchover time</localizedMessage></error>' +
      '<queueTime>2024-05-01T10:00:00.100Z</queueTime><startTime>2024-05-01T10:00:00.250Z</startTime>' +
      '<completeTime>2024-05-01T10:00:12.750Z</completeTime></val></propSet></objects></returnval>';
    const { server, url } = await scriptedServer({ RetrieveServiceContent: [serviceContent], RetrievePropertiesEx: [taskInfo] });
    const client = await VimClient.connect(url, { insecure: false }, limits(5000));
    try {
      assert.equal(client.transport.soapAction, 'urn:vim25/8.0.2.0');
      const info = await client.taskInfo({ type: 'Task', value: 'task-7' });
      assert.equal(info.state, 'error');
      assert.deepEqual(info.error, { fault: 'MigrationNotReady', message: 'The migration has exceeded the maximum switchover time' });
      assert.equal(info.completeTime!.date.getTime() - info.startTime!.date.getTime(), 12_500);
      assert.equal(info.startTime!.text, '2024-05-01T10:00:00.250Z', 'kept as the server wrote it');
      assert.equal(info.eventChainId, undefined);
    } finally {
      await client.close();
      server.close();
    }
  });
});

describe('a migration\'s event', () => {
  const at = (text: string): { text: string; date: Date } => ({ text, date: new Date(text) });
  const event = (key: number, created: string, host: string, chainId?: number): VimEvent => ({
    type: 'VmMigratedEvent',
    key,
    chainId,
    createdTime: at(created),
    message: `to ${host}`,
    vm: 'vm01',
    host,
    sourceHost: 'esx1',
  });
  const task = (start: string | undefined, eventChainId?: number): TaskInfo => ({
    state: 'success',
    queueTime: undefined,
    startTime: start === undefined ? undefined : at(start),
    completeTime: undefined,
    eventChainId,
    error: undefined,
  });
  // The VM went to esx2 (an earlier migration), back to esx1, then to esx2 again with the task asked about.
  const events = [event(12, '2024-05-01T10:05:00.900Z', 'esx2', 11), event(7, '2024-05-01T09:00:00Z', 'esx2', 6), event(9, '2024-05-01T10:00:00Z', 'esx1', 8)];

  it('is the first that took the VM to the target at or after the task started, whatever the answer\'s order', () => {
    assert.equal(pickMigrationEvent(events, task('2024-05-01T10:05:00.100Z'), 'esx2')?.key, 12);
    assert.equal(pickMigrationEvent(events, task('2024-05-01T08:00:00Z'), 'esx2')?.key, 7);
    assert.equal(pickMigrationEvent(events, task('2024-05-01T10:06:00Z'), 'esx2'), undefined, 'older events belong to older migrations');
    assert.equal(pickMigrationEvent(events, task('2024-05-01T10:05:00.100Z'), 'esx3'), undefined, 'none went there');
    assert.equal(pickMigrationEvent([], task(undefined), 'esx2'), undefined);
  });

  it('is the one in the task\'s event chain where the server tells it', () => {
    assert.equal(pickMigrationEvent(events, task('2024-05-01T08:00:00Z', 11), 'esx2')?.key, 12);
  });

  it('is recorded with the server\'s time as written', () => {
    assert.deepEqual(migrationEventRecord({ ...events[0]!, sourceHost: undefined }), {
      type: 'VmMigratedEvent',
      key: 12,
      created_time: '2024-05-01T10:05:00.900Z',
      message: 'to esx2',
      source_host: null,
      target_host: 'esx2',
    });
  });
});

describe('the sample config', () => {
  it('is valid', () => {
    const config = loadVsphereConfig(path.join(import.meta.dirname, '..', '..', 'samples', 'vsphere', 'config.yaml'));
    assert.equal(config.url, 'https://vcenter.example.org/sdk');
    assert.equal(config.tls.insecure, false);
  });
});
