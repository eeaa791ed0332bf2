/** A scheduled callback of the virtual clock. */
export interface Timer {
  readonly time: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

function earlier(a: Timer, b: Timer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** A binary min-heap of timers ordered by time, then by scheduling order. */
export class TimerQueue {
  private readonly heap: Timer[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The earliest timer, left in the queue. */
  peek(): Timer | undefined {
    return this.heap[0];
  }

  push(timer: Timer): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Timer;
      if (!earlier(timer, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = timer;
  }

  pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && earlier(heap[right] as Timer, heap[left] as Timer)) child = right;
      const c = heap[child] as Timer;
      if (!earlier(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
