import type { RecordSink } from './records.ts';

/** A sink that hands every record to each of `sinks`, in order. */
export function fanOut(...sinks: RecordSink[]): RecordSink {
  return {
    sample: (record) => sinks.forEach((sink) => sink.sample(record)),
    action: (record) => sinks.forEach((sink) => sink.action(record)),
    migration: (record) => sinks.forEach((sink) => sink.migration(record)),
    request: (record) => sinks.forEach((sink) => sink.request(record)),
    decision: (record) => sinks.forEach((sink) => sink.decision(record)),
  };
}
