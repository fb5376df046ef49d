  const found: [number, number][] = [];
  lst.forEach((row, r) => {
    for (let c = row.length - 1; c >= 0; c--) {
      if (row[c] === x) found.push([r, c]);
    }
  });
  return found;
}
