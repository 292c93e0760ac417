import data from './data.json';
import { answer } from './data.json';

export const resource = { title: 'Data', description: data.message };

export function DataResource() {
  return (
    <p>
      {data.message} {answer}
    </p>
  );
}
