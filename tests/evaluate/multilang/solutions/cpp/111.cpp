    std::map<std::string, long> counts;
    std::istringstream words(test);
    std::string word;
    while (words >> word) counts[word]++;
    long most = 0;
    for (const auto& [letter, n] : counts) most = std::max(most, n);
    std::map<std::string, long> result;
    for (const auto& [letter, n] : counts) {
        if (n == most) result[letter] = n;
    }
    return result;
}
