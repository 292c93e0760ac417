// Trip data and planning logic, shared by the tools. Pure functions over a small built-in
// catalog: no network, so the example works offline and its results are deterministic.

export const INTERESTS = ['sights', 'food', 'nature', 'museums'] as const;
export const STYLES = ['budget', 'comfort', 'luxury'] as const;

export type Interest = (typeof INTERESTS)[number];
export type TravelStyle = (typeof STYLES)[number];

export interface Stop {
  /** Stable id, so that the UI can remember which stops the user dropped. */
  id: string;
  time: 'morning' | 'afternoon' | 'evening';
  name: string;
  interest: Interest;
  note: string;
}

export interface Day {
  day: number;
  title: string;
  stops: Stop[];
}

export interface Itinerary {
  destination: string;
  country: string;
  days: Day[];
  travelers: number;
  style: TravelStyle;
}

interface Place {
  name: string;
  interest: Interest;
  note: string;
}

interface City {
  name: string;
  country: string;
  /** Price level relative to the catalog's average (1 = average). */
  priceLevel: number;
  places: Place[];
}

const CITIES: City[] = [
  {
    name: 'Lisbon',
    country: 'Portugal',
    priceLevel: 0.9,
    places: [
      { name: 'Belém Tower', interest: 'sights', note: 'Go early; the queue grows by 10am.' },
      { name: 'Alfama on tram 28', interest: 'sights', note: 'Board at Martim Moniz for a seat.' },
      { name: 'Time Out Market', interest: 'food', note: 'Try a bifana and a pastel de nata.' },
      { name: 'Tasca in Bairro Alto', interest: 'food', note: 'Fado starts around 9pm.' },
      { name: 'Sintra hills', interest: 'nature', note: 'A 40-minute train from Rossio.' },
      { name: 'Cascais coast walk', interest: 'nature', note: 'Flat path, bring water.' },
      { name: 'Gulbenkian Museum', interest: 'museums', note: 'The garden is free.' },
      { name: 'National Tile Museum', interest: 'museums', note: 'Five centuries of azulejos.' },
    ],
  },
  {
    name: 'Kyoto',
    country: 'Japan',
    priceLevel: 1.1,
    places: [
      { name: 'Fushimi Inari', interest: 'sights', note: 'The upper gates are quiet.' },
      { name: 'Kiyomizu-dera', interest: 'sights', note: 'Walk down through Sannenzaka.' },
      { name: 'Nishiki Market', interest: 'food', note: 'Small plates; closes around 6pm.' },
      { name: 'Pontocho alley', interest: 'food', note: 'Riverside dining in summer.' },
      { name: 'Arashiyama bamboo grove', interest: 'nature', note: 'Before 8am for photos.' },
      { name: 'Philosopher’s Path', interest: 'nature', note: 'Best in cherry season.' },
      { name: 'Kyoto National Museum', interest: 'museums', note: 'Closed on Mondays.' },
      { name: 'Manga Museum', interest: 'museums', note: 'Thousands of volumes to read.' },
    ],
  },
  {
    name: 'Denver',
    country: 'United States',
    priceLevel: 1.2,
    places: [
      { name: 'Union Station', interest: 'sights', note: 'Restored 1914 hall.' },
      { name: 'Larimer Square', interest: 'sights', note: 'Lit up at night.' },
      { name: 'Denver Central Market', interest: 'food', note: 'Eleven vendors under one roof.' },
      { name: 'Green chile on Federal Blvd', interest: 'food', note: 'Ask for it smothered.' },
      { name: 'Red Rocks Park', interest: 'nature', note: 'Trading Post trail, 1.4 miles.' },
      { name: 'Chautauqua, Boulder', interest: 'nature', note: 'Flatirons views.' },
      { name: 'Denver Art Museum', interest: 'museums', note: 'Free for under-19s.' },
      { name: 'Museum of Nature & Science', interest: 'museums', note: 'Planetarium shows.' },
    ],
  },
];

/** Names of the destinations the catalog knows, for error messages and descriptions. */
export const DESTINATIONS = CITIES.map((c) => c.name);

/** Looks a city up by name, case-insensitively. */
function findCity(destination: string): City | undefined {
  const wanted = destination.trim().toLowerCase();
  return CITIES.find((c) => c.name.toLowerCase() === wanted);
}

const TIMES: Stop['time'][] = ['morning', 'afternoon', 'evening'];

/**
 * Plans `days` days in `destination`: three stops a day, cycling through the requested
 * interests so that each day mixes them. Throws for an unknown destination.
 */
export function planTrip(
  destination: string,
  days: number,
  interests: Interest[],
  travelers: number,
  style: TravelStyle
): Itinerary {
  const city = findCity(destination);
  if (!city) {
    throw new Error(
      `Unknown destination "${destination}". Known destinations: ${DESTINATIONS.join(', ')}.`
    );
  }
  const wanted = interests.length > 0 ? interests : [...INTERESTS];
  const pools = new Map<Interest, Place[]>(
    wanted.map((i) => [i, city.places.filter((p) => p.interest === i)])
  );
  const used = new Map<Interest, number>();
  const plan: Day[] = [];
  let turn = 0;
  for (let day = 1; day <= days; day++) {
    const stops: Stop[] = TIMES.map((time) => {
      const interest = wanted[turn++ % wanted.length];
      const pool = pools.get(interest) ?? [];
      const n = used.get(interest) ?? 0;
      used.set(interest, n + 1);
      const place = pool[n % pool.length];
      return {
        id: `d${day}-${time}`,
        time,
        name: place.name,
        interest,
        // A place can come back on a long trip; say so instead of pretending it is new.
        note: n >= pool.length ? `Again: ${place.note}` : place.note,
      };
    });
    plan.push({ day, title: `Day ${day} in ${city.name}`, stops });
  }
  return { destination: city.name, country: city.country, days: plan, travelers, style };
}

/** Daily cost per person in EUR for each style, before the city's price level. */
const DAILY: Record<TravelStyle, { lodging: number; food: number; activities: number; transport: number }> = {
  budget: { lodging: 35, food: 25, activities: 15, transport: 8 },
  comfort: { lodging: 90, food: 50, activities: 35, transport: 15 },
  luxury: { lodging: 260, food: 120, activities: 90, transport: 45 },
};

export interface Budget {
  currency: 'EUR';
  days: number;
  travelers: number;
  style: TravelStyle;
  priceLevel: number;
  perPersonPerDay: number;
  total: number;
  breakdown: { lodging: number; food: number; activities: number; transport: number };
}

/**
 * Estimates the cost of a trip. Lodging is shared by two travelers per room; the rest is per
 * person. An unknown (or no) destination uses the average price level.
 */
export function estimateBudget(
  days: number,
  travelers: number,
  style: TravelStyle,
  destination?: string
): Budget {
  const priceLevel = (destination && findCity(destination)?.priceLevel) || 1;
  const daily = DAILY[style];
  const rooms = Math.ceil(travelers / 2);
  const scale = (perDay: number, units: number) => Math.round(perDay * priceLevel * units * days);
  const breakdown = {
    lodging: scale(daily.lodging, rooms),
    food: scale(daily.food, travelers),
    activities: scale(daily.activities, travelers),
    transport: scale(daily.transport, travelers),
  };
  const total = breakdown.lodging + breakdown.food + breakdown.activities + breakdown.transport;
  return {
    currency: 'EUR',
    days,
    travelers,
    style,
    priceLevel,
    perPersonPerDay: Math.round(total / travelers / days),
    total,
    breakdown,
  };
}

/** Labels for the interests, as the itinerary view shows them. */
export const INTEREST_LABELS: Record<Interest, string> = {
  sights: 'Sights',
  food: 'Food',
  nature: 'Nature',
  museums: 'Museums',
};
