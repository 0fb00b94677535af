// SPDX-License-Identifier: MIT
// The canonical vocabulary: the fields the normalizer maps speakers' names onto, each with its unit.
// Users add their own through /v1/vocabulary; these are the defaults (seeded by migration 006).

export interface VocabularyEntry {
  readonly name: string;
  /** The unit values are stored in (`C`, `hPa`, `%`, `bool`, `text`, `count` …). */
  readonly unit: string;
  readonly description: string;
}

export const defaultVocabulary: readonly VocabularyEntry[] = [
  { name: 'temperature', unit: 'C', description: 'Temperature in degrees Celsius.' },
  { name: 'humidity', unit: '%', description: 'Relative humidity in percent.' },
  { name: 'pressure', unit: 'hPa', description: 'Pressure (barometric, tyre, line) in hectopascals.' },
  { name: 'lat', unit: 'deg', description: 'Latitude in decimal degrees (WGS 84).' },
  { name: 'lon', unit: 'deg', description: 'Longitude in decimal degrees (WGS 84).' },
  { name: 'alt', unit: 'm', description: 'Altitude above sea level in metres.' },
  { name: 'speed', unit: 'km/h', description: 'Speed over ground in kilometres per hour.' },
  { name: 'heading', unit: 'deg', description: 'Direction of travel in degrees from north.' },
  { name: 'battery', unit: '%', description: 'Battery charge in percent.' },
  { name: 'voltage', unit: 'V', description: 'Electric potential in volts.' },
  { name: 'current', unit: 'A', description: 'Electric current in amperes.' },
  { name: 'power', unit: 'W', description: 'Electric power in watts.' },
  { name: 'energy', unit: 'kWh', description: 'Energy in kilowatt-hours.' },
  { name: 'co2', unit: 'ppm', description: 'Carbon dioxide concentration in parts per million.' },
  { name: 'pm25', unit: 'ug/m3', description: 'Fine particulate matter (PM2.5) in µg/m³.' },
  { name: 'pm10', unit: 'ug/m3', description: 'Particulate matter (PM10) in µg/m³.' },
  { name: 'noise', unit: 'dB', description: 'Sound level in decibels.' },
  { name: 'rssi', unit: 'dBm', description: 'Received signal strength in dBm.' },
  { name: 'heart_rate', unit: 'bpm', description: 'Heart rate in beats per minute.' },
  { name: 'steps', unit: 'count', description: 'Step count.' },
  { name: 'accuracy', unit: 'm', description: 'Position accuracy (radius) in metres.' },
  { name: 'fuel_level', unit: '%', description: 'Fuel tank level in percent.' },
  { name: 'odometer', unit: 'km', description: 'Distance travelled in kilometres.' },
  { name: 'rpm', unit: 'rpm', description: 'Engine or shaft speed in revolutions per minute.' },
  { name: 'door_open', unit: 'bool', description: 'Whether a door is open.' },
  { name: 'light', unit: 'lux', description: 'Illuminance in lux.' },
  { name: 'wind_speed', unit: 'm/s', description: 'Wind speed in metres per second.' },
  { name: 'wind_direction', unit: 'deg', description: 'Direction the wind comes from, degrees from north.' },
  { name: 'rainfall', unit: 'mm', description: 'Precipitation in millimetres.' },
  { name: 'status', unit: 'text', description: 'Operational status as text.' },
];

/** A canonical field name: as a field name, plus lowercase ASCII so it reads the same everywhere. */
export const vocabularyNamePattern = /^[a-z][a-z0-9_]{0,63}$/;
export const vocabularyUnitLengthMax = 16;
export const vocabularyDescriptionLengthMax = 500;
export const vocabularyEntriesMax = 1000;
