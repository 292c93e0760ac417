import notes from './notes.txt?raw';
import readme from './readme.md?raw';
import pixel from './pixel.png?url';
import logo from './logo.svg?url';
import plainLogo from './logo.svg';
import inlineCss from './probe.css?inline';
import { helper } from './helper.ts?v=2';

export const resource = { title: 'Suffixes', description: 'Vite import suffixes' };

export function SuffixesResource() {
  return (
    <div>
      <p className="inline-probe">inline css not applied</p>
      <p>raw txt: {notes}</p>
      <p>raw md: {readme}</p>
      <p>png url: {pixel}</p>
      <p>svg url: {logo}</p>
      <p>svg plain import is the same: {String(plainLogo === logo)}</p>
      <p>inline css: {inlineCss}</p>
      <p>{helper}</p>
      <img src={pixel} alt="pixel" />
    </div>
  );
}
