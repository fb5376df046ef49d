  const counts: {[key: string]: number} = {};
  for (const word of test.split(" ")) {
    if (word !== "") counts[word] = (counts[word] || 0) + 1;
  }
  const most = Math.max(0, ...Object.values(counts));
  const result: {[key: string]: number} = {};
  for (const letter of Object.keys(counts)) {
    if (counts[letter] === most) result[letter] = most;
  }
  return result;
}
