import type { RecordSink } from './records.ts';

/** A sink that hands every record to each of `sinks`, in order. */
export function fanOut(...sinks: RecordSink[]): RecordSink {
  return {
    sample: (record) => {
      for (const sink of sinks) sink.sample(record);
    },
    action: (record) => {
      for (const sink of sinks) sink.action(record);
    },
    migration: (record) => {
      for (const sink of sinks) sink.migration(record);
    },
    request: (record) => {
      for (const sink of sinks) sink.request(record);
    },
    decision: (record) => {
      for (const sink of sinks) sink.decision(record);
    },
  };
}
