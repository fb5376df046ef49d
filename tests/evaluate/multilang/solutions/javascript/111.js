  const counts = {};
  for (const word of test.split(" ")) {
    if (word !== "") counts[word] = (counts[word] || 0) + 1;
  }
  const most = Math.max(0, ...Object.values(counts));
  const result = {};
  for (const [letter, n] of Object.entries(counts)) {
    if (n === most) result[letter] = n;
  }
  return result;
}
