  const low = Math.min(...numbers);
  const high = Math.max(...numbers);
  return numbers.map((x) => (x - low) / (high - low));
}
