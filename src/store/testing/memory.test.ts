import { MemoryData, MemoryStore } from './memory.ts';
import { storeContract } from '../store.case.test.ts';

storeContract(
  'memory',
  {
    async space() {
      const data = new MemoryData();
      return { options: { home: '(memory)' }, open: async (o = {}) => new MemoryStore(data, o), cleanup: async () => undefined };
    },
  },
  { skip: { crash: 'a memory store lives in one process: nothing of it outlives a kill' } },
);
