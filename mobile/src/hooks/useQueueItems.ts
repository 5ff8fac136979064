import { useEffect, useState } from 'react';

import type { QueueItem } from '../offline/recordingQueue';
import { useServices } from '../servicesContext';

export function useQueueItems(): QueueItem[] {
  const { queue } = useServices();
  const [items, setItems] = useState<QueueItem[]>(queue.all);
  useEffect(() => {
    setItems(queue.all);
    return queue.subscribe(setItems);
  }, [queue]);
  return items;
}
