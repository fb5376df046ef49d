  const kept = s.split("").filter((ch) => !c.includes(ch)).join("");
  return [kept, kept === kept.split("").reverse().join("")];
}
