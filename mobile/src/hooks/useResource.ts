import { useCallback, useEffect, useRef, useState } from 'react';

import { describeError } from '../api/errors';

export type Resource<T> =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; data: T };

/** Loads something once (and again on `reload`), tracking loading / error / data. */
export function useResource<T>(load: () => Promise<T>): [Resource<T>, () => void, (data: T) => void] {
  const [resource, setResource] = useState<Resource<T>>({ status: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let active = true;
    setResource({ status: 'loading' });
    loadRef.current().then(
      (data) => active && setResource({ status: 'ready', data }),
      (error: unknown) => active && setResource({ status: 'error', message: describeError(error) }),
    );
    return () => {
      active = false;
    };
  }, [generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const replace = useCallback((data: T) => setResource({ status: 'ready', data }), []);
  return [resource, reload, replace];
}
