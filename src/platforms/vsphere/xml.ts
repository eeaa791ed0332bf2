import { XMLParser } from 'fast-xml-parser';

export const NS = {
  soapenv: 'http://schemas.xmlsoap.org/soap/envelope/',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
  vim25: 'urn:vim25',
} as const;

/** A qualified name with its prefix resolved: what an element or an `xsi:type` value really is. */
export interface QName {
  ns: string;
  local: string;
}

/** One element of a parsed document, every name resolved against the namespaces in scope. */
export interface XmlElement {
  name: QName;
  /** Attributes by local name (vim25 uses unqualified attributes, e.g. a reference's `type`). */
  attributes: Map<string, string>;
  /** The resolved `xsi:type`, whatever prefix the server bound the XSI namespace to. */
  xsiType: QName | undefined;
  children: XmlElement[];
  /** The element's text (its text nodes joined). */
  text: string;
}

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  removeNSPrefix: false,
});

/** Parses a document into resolved elements; throws on text that is not XML. */
export function parseXml(text: string): XmlElement {
  const nodes = parser.parse(text) as OrderedNode[];
  const root = nodes.map((node) => toElement(node, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]))).find((e) => e !== undefined);
  if (!root) throw new Error('not an XML document');
  return root;
}

function toElement(node: OrderedNode, outerScope: ReadonlyMap<string, string>): XmlElement | undefined {
  const tag = Object.keys(node).find((key) => key !== ':@' && key !== '#text' && !key.startsWith('?'));
  if (tag === undefined) return undefined;
  const rawAttributes = node[':@'] ?? {};
  let scope = outerScope;
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (scope === outerScope) scope = new Map(outerScope);
      (scope as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), value);
    }
  }
  const attributes = new Map<string, string>();
  let xsiType: QName | undefined;
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const colon = name.indexOf(':');
    const local = colon < 0 ? name : name.slice(colon + 1);
    // Unprefixed attributes are in no namespace; a prefixed one is in its prefix's.
    const ns = colon < 0 ? '' : (scope.get(name.slice(0, colon)) ?? '');
    if (ns === NS.xsi && local === 'type') xsiType = resolveQName(value, scope);
    else attributes.set(local, value);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[tag] as OrderedNode[] | undefined) ?? []) {
    if ('#text' in child) {
      text += String(child['#text']);
      continue;
    }
    const element = toElement(child, scope);
    if (element) children.push(element);
  }
  return { name: resolveQName(tag, scope), attributes, xsiType, children, text };
}

/** `prefix:local` (or `local`, in the default namespace) against the namespaces in scope. */
function resolveQName(qname: string, scope: ReadonlyMap<string, string>): QName {
  const colon = qname.indexOf(':');
  if (colon < 0) return { ns: scope.get('') ?? '', local: qname };
  return { ns: scope.get(qname.slice(0, colon)) ?? '', local: qname.slice(colon + 1) };
}

/** The first child named `local` (any namespace: vim25 bodies are all in one). */
export function child(element: XmlElement | undefined, local: string): XmlElement | undefined {
  return element?.children.find((c) => c.name.local === local);
}

export function children(element: XmlElement | undefined, local: string): XmlElement[] {
  return element?.children.filter((c) => c.name.local === local) ?? [];
}

export function childText(element: XmlElement | undefined, local: string): string | undefined {
  return child(element, local)?.text;
}

/** Follows a path of child names, e.g. `['Body', 'Fault']`. */
export function descend(element: XmlElement | undefined, ...path: string[]): XmlElement | undefined {
  let current = element;
  for (const local of path) current = child(current, local);
  return current;
}

// ---- writing -------------------------------------------------------------------------------

/** A fragment of XML already escaped: built only by the functions below. */
export interface Xml {
  readonly xml: string;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

type Content = Xml | string | number | boolean | undefined | null | readonly Content[];

/**
 * `<name attrs>content</name>`. Strings and numbers are escaped text; `undefined` and `null`
 * content omit the element (an optional field left out); arrays repeat nothing, they concatenate.
 */
export function el(name: string, content: Content, attributes: Record<string, string> = {}): Xml {
  if (content === undefined || content === null) return { xml: '' };
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  return { xml: `<${name}${attrs}>${render(content)}</${name}>` };
}

/** The same element once per value, e.g. `<type>A</type><type>B</type>`. */
export function each(name: string, values: readonly Content[]): Xml {
  return { xml: values.map((value) => el(name, value).xml).join('') };
}

export function fragment(...parts: Content[]): Xml {
  return { xml: render(parts) };
}

function render(content: Content): string {
  if (content === undefined || content === null) return '';
  if (Array.isArray(content)) return content.map((part: Content) => render(part)).join('');
  if (typeof content === 'object') return (content as Xml).xml;
  return escapeXml(String(content));
}
