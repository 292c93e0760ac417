import { useEffect, useState } from 'react';

export const resource = { title: 'Lazy' };

export function LazyResource() {
  const [text, setText] = useState('loading');
  useEffect(() => {
    import('./later').then((m) => setText(m.LATER));
  }, []);
  return <p>{text}</p>;
}
