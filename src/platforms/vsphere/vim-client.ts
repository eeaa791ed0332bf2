import { SoapTransport, VimFault, moRef, refXml, type CallLimits, type MoRef, type TlsOptions } from './soap.ts';
import { child, childText, children, each, el, fragment, type Xml, type XmlElement } from './xml.ts';

/** The parts of vim25's ServiceContent this tool uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  perfManager: MoRef;
  /** Absent on servers without events. */
  eventManager: MoRef | undefined;
  about: { fullName: string; apiType: string; apiVersion: string; instanceUuid: string };
}

/** One object of a property-collector answer: its reference and the properties asked for. */
export interface ObjectContent {
  obj: MoRef;
  props: Map<string, XmlElement>;
  /** Properties the server could not read, with its fault's type. */
  missing: { path: string; fault: string }[];
}

/** What to read: properties of objects of a type, from the objects an ObjectSpec reaches. */
export interface PropertyQuery {
  propSet: { type: string; pathSet: readonly string[] }[];
  objectSet: { obj: MoRef; skip: boolean; traverseView: boolean }[];
}

export interface PerfCounterInfo {
  key: number;
  /** `group.name.rollup`, e.g. `cpu.usagemhz.average`. */
  name: string;
  unit: string;
}

export interface PerfMetricId {
  counterId: number;
  instance: string;
}

export interface PerfQuerySpec {
  entity: MoRef;
  maxSample: number;
  metricId: readonly PerfMetricId[];
  intervalId: number;
}

/** One entity's answer to QueryPerf: sample times and, per metric, its values (zeros may be missing). */
export interface PerfEntityMetric {
  entity: MoRef;
  sampleTimes: Date[];
  series: { id: PerfMetricId; values: number[] }[];
}

/** A time the server gave: its text as written (an xsd:dateTime) and its value. */
export interface ServerTime {
  text: string;
  date: Date;
}

export type TaskState = 'queued' | 'running' | 'success' | 'error';

export interface TaskInfo {
  state: TaskState;
  queueTime: ServerTime | undefined;
  startTime: ServerTime | undefined;
  completeTime: ServerTime | undefined;
  /** The chain of the events the task logged, where the server says (vCenter does). */
  eventChainId: number | undefined;
  /** The fault's type and message when `state` is `error`. */
  error: { fault: string; message: string } | undefined;
}

/** Which events QueryEvents returns: an EventFilterSpec reduced to what this tool asks. */
export interface EventQuery {
  /** Events about this entity itself (recursion `self`). */
  entity: MoRef;
  /** Only these event types (and their subtypes), e.g. `VmMigratedEvent`. */
  eventTypes: readonly string[];
  /** Events created at or after this server time; servers may ignore it (vcsim 0.24 does). */
  since: ServerTime | undefined;
  maxCount: number;
}

/** One logged event, with the parts this tool records. */
export interface VimEvent {
  /** Its type, e.g. `VmMigratedEvent` or `DrsVmMigratedEvent`. */
  type: string;
  key: number;
  chainId: number | undefined;
  createdTime: ServerTime;
  /** `fullFormattedMessage`, the text the vSphere Client shows. */
  message: string;
  /** The names of the entities it is about; for a VmMigratedEvent `host` is where the VM went. */
  vm: string | undefined;
  host: string | undefined;
  sourceHost: string | undefined;
}

const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };
/** How many pages of a property-collector answer are read at most: a bound, not a limit met in practice. */
const MAX_PAGES = 10_000;

function requiredRef(element: XmlElement | undefined, name: string): MoRef {
  const ref = moRef(child(element, name));
  if (!ref) throw new Error(`RetrieveServiceContent: the answer has no ${name}`);
  return ref;
}

function dateOf(text: string | undefined): Date | undefined {
  return serverTimeOf(text)?.date;
}

function serverTimeOf(text: string | undefined): ServerTime | undefined {
  if (text === undefined || text === '') return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : { text, date };
}

function integerOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

/**
 * The vim25 calls this tool needs, typed: no WSDL, only what is used. Faults surface as
 * `VimFault` (name and message), transport problems as `TransportError`.
 */
export class VimClient {
  private constructor(
    readonly transport: SoapTransport,
    readonly content: ServiceContent,
  ) {}

  static async connect(url: URL, tls: TlsOptions, limits: CallLimits): Promise<VimClient> {
    const transport = new SoapTransport(url, tls, limits);
    try {
      const response = await transport.call('RetrieveServiceContent', SERVICE_INSTANCE);
      const value = child(response, 'returnval');
      const about = child(value, 'about');
      const content: ServiceContent = {
        rootFolder: requiredRef(value, 'rootFolder'),
        propertyCollector: requiredRef(value, 'propertyCollector'),
        viewManager: requiredRef(value, 'viewManager'),
        sessionManager: requiredRef(value, 'sessionManager'),
        perfManager: requiredRef(value, 'perfManager'),
        eventManager: moRef(child(value, 'eventManager')),
        about: {
          fullName: childText(about, 'fullName') ?? '',
          apiType: childText(about, 'apiType') ?? '',
          apiVersion: childText(about, 'apiVersion') ?? '',
          instanceUuid: childText(about, 'instanceUuid') ?? '',
        },
      };
      if (/^\d+(\.\d+)*$/.test(content.about.apiVersion)) transport.soapAction = `urn:vim25/${content.about.apiVersion}`;
      return new VimClient(transport, content);
    } catch (error) {
      await transport.close();
      throw error;
    }
  }

  async login(userName: string, password: string): Promise<void> {
    this.transport.dropSession();
    await this.transport.call('Login', this.content.sessionManager, fragment(el('userName', userName), el('password', password)));
  }

  async logout(): Promise<void> {
    await this.transport.call('Logout', this.content.sessionManager);
    this.transport.dropSession();
  }

  /** The server's clock. */
  async currentTime(): Promise<Date> {
    const response = await this.transport.call('CurrentTime', SERVICE_INSTANCE);
    const time = dateOf(childText(response, 'returnval'));
    if (!time) throw new Error('CurrentTime: no time in the answer');
    return time;
  }

  async createContainerView(container: MoRef, types: readonly string[], recursive: boolean): Promise<MoRef> {
    const response = await this.transport.call(
      'CreateContainerView',
      this.content.viewManager,
      fragment(refXml('container', container), each('type', types), el('recursive', recursive)),
    );
    const view = moRef(child(response, 'returnval'));
    if (!view) throw new Error('CreateContainerView: no view in the answer');
    return view;
  }

  /** RetrievePropertiesEx, then ContinueRetrievePropertiesEx while the server hands a token. */
  async retrieveProperties(query: PropertyQuery): Promise<ObjectContent[]> {
    const spec = el('specSet', fragment(
      query.propSet.map((p) => el('propSet', fragment(el('type', p.type), each('pathSet', p.pathSet)))),
      query.objectSet.map((o) =>
        el('objectSet', fragment(
          refXml('obj', o.obj),
          el('skip', o.skip),
          o.traverseView
            ? el('selectSet', fragment(el('name', 'traverseView'), el('type', 'ContainerView'), el('path', 'view'), el('skip', false)), {
                'xsi:type': 'TraversalSpec',
              })
            : undefined,
        )),
      ),
    ));
    const pc = this.content.propertyCollector;
    let response = await this.transport.call('RetrievePropertiesEx', pc, fragment(spec, el('options', fragment())));
    const objects: ObjectContent[] = [];
    for (let page = 0; ; page++) {
      const result = child(response, 'returnval');
      objects.push(...children(result, 'objects').map(objectContentOf));
      const token = childText(result, 'token');
      if (!token) return objects;
      if (page >= MAX_PAGES) throw new Error(`RetrievePropertiesEx: more than ${MAX_PAGES} pages`);
      response = await this.transport.call('ContinueRetrievePropertiesEx', pc, el('token', token));
    }
  }

  /** Properties of one object; a property the server could not read throws its fault. */
  async objectProperties(obj: MoRef, paths: readonly string[]): Promise<Map<string, XmlElement>> {
    const [content] = await this.retrieveProperties({
      propSet: [{ type: obj.type, pathSet: paths }],
      objectSet: [{ obj, skip: false, traverseView: false }],
    });
    const missing = content?.missing[0];
    if (missing) throw new VimFault(missing.fault, `cannot read ${obj.type} ${obj.value} ${missing.path}`, 'RetrievePropertiesEx', undefined);
    return content?.props ?? new Map();
  }

  async perfCounters(): Promise<PerfCounterInfo[]> {
    const props = await this.objectProperties(this.content.perfManager, ['perfCounter']);
    return children(props.get('perfCounter'), 'PerfCounterInfo').map((info) => {
      const group = childText(child(info, 'groupInfo'), 'key') ?? '';
      const name = childText(child(info, 'nameInfo'), 'key') ?? '';
      return {
        key: Number(childText(info, 'key')),
        name: `${group}.${name}.${childText(info, 'rollupType') ?? ''}`,
        unit: childText(child(info, 'unitInfo'), 'key') ?? '',
      };
    });
  }

  /** The entity's real-time refresh rate in seconds, or undefined when it has no real-time statistics. */
  async refreshRate(entity: MoRef): Promise<number | undefined> {
    const response = await this.transport.call('QueryPerfProviderSummary', this.content.perfManager, refXml('entity', entity));
    const summary = child(response, 'returnval');
    const rate = Number(childText(summary, 'refreshRate'));
    return childText(summary, 'currentSupported') === 'true' && rate > 0 ? rate : undefined;
  }

  async availablePerfMetrics(entity: MoRef, intervalId: number): Promise<PerfMetricId[]> {
    const response = await this.transport.call(
      'QueryAvailablePerfMetric',
      this.content.perfManager,
      fragment(refXml('entity', entity), el('intervalId', intervalId)),
    );
    return children(response, 'returnval').map(metricIdOf);
  }

  async queryPerf(specs: readonly PerfQuerySpec[]): Promise<PerfEntityMetric[]> {
    if (specs.length === 0) return [];
    const response = await this.transport.call(
      'QueryPerf',
      this.content.perfManager,
      fragment(
        specs.map((spec) =>
          el('querySpec', fragment(
            refXml('entity', spec.entity),
            el('maxSample', spec.maxSample),
            spec.metricId.map((id) => el('metricId', fragment(el('counterId', id.counterId), el('instance', id.instance)))),
            el('intervalId', spec.intervalId),
            el('format', 'normal'),
          )),
        ),
      ),
    );
    return children(response, 'returnval').flatMap((metric): PerfEntityMetric[] => {
      const entity = moRef(child(metric, 'entity'));
      if (!entity) return [];
      return [{
        entity,
        sampleTimes: children(metric, 'sampleInfo').map((info) => dateOf(childText(info, 'timestamp')) ?? new Date(NaN)),
        series: children(metric, 'value').map((series) => ({
          id: metricIdOf(child(series, 'id')),
          values: children(series, 'value').map((value) => Number(value.text)),
        })),
      }];
    });
  }

  /** vMotion the classic way; servers without it fault with MethodNotFound or NotImplemented. */
  async migrateVm(vm: MoRef, target: { host: MoRef; pool: MoRef | undefined }): Promise<MoRef> {
    const response = await this.transport.call(
      'MigrateVM_Task',
      vm,
      fragment(target.pool ? refXml('pool', target.pool) : undefined, refXml('host', target.host), el('priority', 'defaultPriority')),
    );
    return taskRef(response, 'MigrateVM_Task');
  }

  async relocateVm(vm: MoRef, target: { host: MoRef; pool: MoRef | undefined }): Promise<MoRef> {
    const spec = el('spec', fragment(target.pool ? refXml('pool', target.pool) : undefined, refXml('host', target.host)));
    const response = await this.transport.call('RelocateVM_Task', vm, fragment(spec, el('priority', 'defaultPriority')));
    return taskRef(response, 'RelocateVM_Task');
  }

  async taskInfo(task: MoRef): Promise<TaskInfo> {
    const info = (await this.objectProperties(task, ['info'])).get('info');
    const state = childText(info, 'state');
    if (state !== 'queued' && state !== 'running' && state !== 'success' && state !== 'error') {
      throw new Error(`task ${task.value}: unknown state '${state ?? ''}'`);
    }
    const error = child(info, 'error');
    return {
      state,
      queueTime: serverTimeOf(childText(info, 'queueTime')),
      startTime: serverTimeOf(childText(info, 'startTime')),
      completeTime: serverTimeOf(childText(info, 'completeTime')),
      eventChainId: integerOf(childText(info, 'eventChainId')),
      error: error
        ? { fault: child(error, 'fault')?.xsiType?.local ?? 'MethodFault', message: (childText(error, 'localizedMessage') ?? '').trim() }
        : undefined,
    };
  }

  /** QueryEvents on the EventManager; a server without one faults like one without the method. */
  async queryEvents(query: EventQuery): Promise<VimEvent[]> {
    const manager = this.content.eventManager;
    if (!manager) throw new VimFault('NotSupported', 'the server has no EventManager', 'QueryEvents', undefined);
    // EventFilterSpec's elements in the WSDL's order: entity, time, ..., eventTypeId, maxCount.
    const filter = el('filter', fragment(
      el('entity', fragment(refXml('entity', query.entity), el('recursion', 'self'))),
      query.since ? el('time', el('beginTime', query.since.text)) : undefined,
      each('eventTypeId', query.eventTypes),
      el('maxCount', query.maxCount),
    ));
    const response = await this.transport.call('QueryEvents', manager, filter);
    return children(response, 'returnval').flatMap((element) => {
      const event = vimEventOf(element);
      return event ? [event] : [];
    });
  }

  /** A raw call, for what the typed methods do not cover (tests use it, e.g. TerminateSession). */
  call(method: string, target: MoRef, body?: Xml): Promise<XmlElement> {
    return this.transport.call(method, target, body);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

function taskRef(response: XmlElement, method: string): MoRef {
  const task = moRef(child(response, 'returnval'));
  if (!task) throw new Error(`${method}: no task in the answer`);
  return task;
}

/** An event of a QueryEvents answer, or undefined when it lacks its key or its creation time. */
function vimEventOf(element: XmlElement): VimEvent | undefined {
  const key = integerOf(childText(element, 'key'));
  const createdTime = serverTimeOf(childText(element, 'createdTime'));
  if (key === undefined || !createdTime) return undefined;
  return {
    type: element.xsiType?.local ?? 'Event',
    key,
    chainId: integerOf(childText(element, 'chainId')),
    createdTime,
    message: (childText(element, 'fullFormattedMessage') ?? '').trim(),
    vm: childText(child(element, 'vm'), 'name'),
    host: childText(child(element, 'host'), 'name'),
    sourceHost: childText(child(element, 'sourceHost'), 'name'),
  };
}

function metricIdOf(element: XmlElement | undefined): PerfMetricId {
  return { counterId: Number(childText(element, 'counterId')), instance: childText(element, 'instance') ?? '' };
}

function objectContentOf(element: XmlElement): ObjectContent {
  const obj = moRef(child(element, 'obj'));
  if (!obj) throw new Error('RetrievePropertiesEx: an object without a reference');
  const props = new Map<string, XmlElement>();
  for (const prop of children(element, 'propSet')) {
    const name = childText(prop, 'name');
    const value = child(prop, 'val');
    if (name !== undefined && value) props.set(name, value);
  }
  const missing = children(element, 'missingSet').map((m) => ({
    path: childText(m, 'path') ?? '',
    fault: child(child(m, 'fault'), 'fault')?.xsiType?.local ?? 'MethodFault',
  }));
  return { obj, props, missing };
}
