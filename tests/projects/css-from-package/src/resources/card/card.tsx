import './card.css';

export const resource = { title: 'Card' };

export function CardResource() {
  return <div className="demo-card card-own">card</div>;
}
