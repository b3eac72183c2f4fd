// The queue worker's signals: the first SIGTERM / Ctrl-C finishes the job in hand, a second stops at
// once; each says so (a worker waiting on an unreachable Redis otherwise looks hung).
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { it } from 'node:test';
import { stopOnSignals } from '../../src/cli/commands/queue.js';

it('first signal closes gracefully and says so; a second exits at once with 128 + the signal number', () => {
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    const proc = new EventEmitter();
    const lines: string[] = [];
    const exits: number[] = [];
    let closes = 0;
    stopOnSignals(proc, () => closes++, (l) => lines.push(l), (c) => exits.push(c));
    proc.emit(signal);
    assert.equal(closes, 1);
    assert.deepEqual(exits, [], 'the first signal does not exit');
    assert.match(lines[0]!, new RegExp(`^${signal}: finishing the job in hand, then stopping \\((SIGTERM|Ctrl-C) again stops at once\\)$`));
    proc.emit(signal);
    assert.equal(closes, 1, 'close is not called twice');
    assert.deepEqual(exits, [code]);
    assert.match(lines[1]!, /again: stopping at once; the job in hand goes back to the queue when its lock expires$/);
  }
});
