// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { conversionOf, convertValue, defaultVocabulary, unitInName } from '../../../../processors/index.js';

describe('unit conversions to the canonical unit', () => {
  it.each<[string, string, number, number]>([
    ['F', 'C', 212, 100],
    ['F', 'C', 68, 20],
    ['F', 'C', -40, -40],
    ['K', 'C', 273.15, 0],
    ['K', 'C', 300, 26.85],
    ['Pa', 'hPa', 101325, 1013.25],
    ['kPa', 'hPa', 101.3, 1013],
    ['mbar', 'hPa', 1013, 1013],
    ['bar', 'hPa', 1.01325, 1013.25],
    ['psi', 'hPa', 14.6959, 1013.25],
    ['inHg', 'hPa', 29.92, 1013.21],
    ['ft', 'm', 1000, 304.8],
    ['mi', 'km', 10, 16.09344],
    ['mph', 'km/h', 60, 96.56064],
    ['m/s', 'km/h', 10, 36],
    ['kn', 'km/h', 10, 18.52],
    ['km/h', 'm/s', 36, 10],
    ['mph', 'm/s', 10, 4.4704],
    ['mV', 'V', 3700, 3.7],
    ['mA', 'A', 250, 0.25],
    ['kW', 'W', 1.5, 1500],
    ['Wh', 'kWh', 1500, 1.5],
    ['MWh', 'kWh', 2, 2000],
    ['in', 'mm', 1, 25.4],
    ['fraction', '%', 0.42, 42],
    ['C', 'C', 21.5, 21.5],
  ])('%s → %s: %d → %d', (from, to, value, expected) => {
    const c = conversionOf(from, to);
    expect(c).toBeDefined();
    expect(convertValue(value, c!)).toBeCloseTo(expected, 2);
  });

  it.each([
    ['F', 'hPa'],
    ['furlong', 'm'],
    ['km/h', 'C'],
  ])('knows no conversion from %s to %s', (from, to) => {
    expect(conversionOf(from, to)).toBeUndefined();
  });

  it('converts every source unit the vocabulary names to each field unit (issue 11 §2)', () => {
    const units = new Map(defaultVocabulary.map((v) => [v.name, v.unit]));
    const required: [string, string[]][] = [
      ['temperature', ['F', 'K']],
      ['pressure', ['Pa', 'kPa', 'mbar', 'bar', 'psi', 'inHg']],
      ['alt', ['ft']],
      ['odometer', ['mi']],
      ['speed', ['mph', 'm/s', 'kn']],
      ['wind_speed', ['km/h', 'mph']],
      ['voltage', ['mV']],
      ['current', ['mA']],
      ['power', ['kW']],
      ['energy', ['Wh', 'MWh']],
      ['rainfall', ['in']],
      ['humidity', ['fraction']],
    ];
    for (const [field, froms] of required) {
      for (const from of froms)
        expect(conversionOf(from, units.get(field)!), `${from} → ${field}`).toBeDefined();
    }
  });
});

describe('unitInName', () => {
  it.each<[string, string | undefined]>([
    ['tempF', 'F'],
    ['Temperature (°C)', 'C'],
    ['temp ℃', 'C'],
    ['pressure_kPa', 'kPa'],
    ['baroHPa', 'hPa'],
    ['speed_km/h', 'km/h'],
    ['wind speed (m/s)', 'm/s'],
    ['energy_MWh', 'MWh'],
    ['battery_mV', 'mV'],
    ['humidity %', '%'],
    ['temperature', undefined],
    ['온도', undefined],
  ])('%j → %s', (name, unit) => {
    expect(unitInName(name)).toBe(unit);
  });
});

it('the default vocabulary is exactly the issue’s: names and units', () => {
  expect(defaultVocabulary.map((v) => `${v.name} ${v.unit}`).join(' · ')).toBe(
    'temperature C · humidity % · pressure hPa · lat deg · lon deg · alt m · speed km/h · heading deg · ' +
      'battery % · voltage V · current A · power W · energy kWh · co2 ppm · pm25 ug/m3 · pm10 ug/m3 · ' +
      'noise dB · rssi dBm · heart_rate bpm · steps count · accuracy m · fuel_level % · odometer km · rpm rpm · ' +
      'door_open bool · light lux · wind_speed m/s · wind_direction deg · rainfall mm · status text',
  );
});
