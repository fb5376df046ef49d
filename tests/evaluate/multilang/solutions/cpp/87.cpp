    std::vector<std::tuple<long, long>> found;
    for (long r = 0; r < static_cast<long>(lst.size()); r++) {
        for (long c = static_cast<long>(lst[r].size()) - 1; c >= 0; c--) {
            if (lst[r][c] == x) found.emplace_back(r, c);
        }
    }
    return found;
}
