/**
 * The centre of every UK outward code, from data/uk-outcodes.csv (Open Government Licence
 * data shipped with the code). Read once per process, on first use: 3,077 rows, about
 * 80 KB, so a fresh machine places any outward code with no import step and no round trip
 * to the database. Kept in memory rather than in a table because it is read-only,
 * versioned with the code that reads it, and nothing in SQL joins to it.
 */
import { readFileSync } from 'node:fs';
import { outcodesFile } from '../paths.js';

export interface Point {
  latitude: number;
  longitude: number;
}

let centroids: Map<string, Point> | undefined;

/** Parses the shipped file; a malformed line is a broken install, so it throws naming the line. */
export function parseOutcodes(text: string, file = outcodesFile): Map<string, Point> {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.replace(/^\uFEFF/, '').trim() !== 'outcode,latitude,longitude,postcodes') {
    throw new Error(`${file}: the first line must be outcode,latitude,longitude,postcodes`);
  }
  const map = new Map<string, Point>();
  lines.slice(1).forEach((line, i) => {
    if (!line.trim()) return;
    const [outcode = '', lat = '', lon = ''] = line.split(',');
    const latitude = Number(lat);
    const longitude = Number(lon);
    if (!/^[A-Z]{1,3}[0-9]{0,2}[A-Z]?$/.test(outcode) || !lat || !lon || !(Math.abs(latitude) <= 90) || !(Math.abs(longitude) <= 180)) {
      throw new Error(`${file}: line ${i + 2} is not an outward code with its latitude and longitude`);
    }
    map.set(outcode, { latitude, longitude });
  });
  return map;
}

/** The centre of an outward code ("SW1A"), or undefined when the code is not one of the UK's. */
export function outcodeCentroid(outcode: string): Point | undefined {
  centroids ??= parseOutcodes(readFileSync(outcodesFile, 'utf8'));
  return centroids.get(outcode);
}
