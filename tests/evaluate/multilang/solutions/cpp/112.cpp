    std::string kept;
    for (char ch : s) {
        if (c.find(ch) == std::string::npos) kept += ch;
    }
    return {kept, std::equal(kept.begin(), kept.end(), kept.rbegin())};
}
