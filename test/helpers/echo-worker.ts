// A worker for test/unit/worker-pool.test.ts: answers requests through serveRequests and can be told to fail, die or hang.
import { threadId, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgeGenderError } from '../../src/core/errors.js';
import { serveRequests } from '../../src/core/worker.js';

export type EchoRequest =
  | { op: 'echo'; value: string; ms?: number }
  | { op: 'fail'; message: string; labelled?: boolean; subject?: string }
  | { op: 'exit'; code: number }
  | { op: 'throw'; message: string };

export interface EchoReply {
  value: string;
  thread: number;
}

const options = (workerData ?? {}) as { silent?: boolean };

const handle = async (req: EchoRequest): Promise<EchoReply> => {
  switch (req.op) {
    case 'echo':
      if (req.ms) await sleep(req.ms);
      return { value: req.value, thread: threadId };
    case 'fail':
      throw req.labelled ? new AgeGenderError('INVALID_IMAGE', req.message, req.subject === undefined ? {} : { subject: req.subject }) : new Error(req.message);
    case 'exit':
      process.exit(req.code);
      break;
    case 'throw':
      setImmediate(() => {
        throw new Error(req.message);
      });
      await sleep(10_000);
  }
  throw new Error('unknown op');
};

serveRequests(handle, options.silent ? {} : { ready: threadId });
