import { Pressable, StyleSheet, Text, View } from 'react-native';

import { colors } from '../theme';

export type Tab = 'record' | 'sessions' | 'leads' | 'events';

const TABS: { tab: Tab; label: string }[] = [
  { tab: 'record', label: 'Record' },
  { tab: 'sessions', label: 'Sessions' },
  { tab: 'leads', label: 'Leads' },
  { tab: 'events', label: 'Events' },
];

export function TabBar({ current, onSelect }: { current: Tab; onSelect: (tab: Tab) => void }) {
  return (
    <View style={styles.bar} accessibilityRole="tablist">
      {TABS.map(({ tab, label }) => (
        <Pressable
          key={tab}
          accessibilityRole="tab"
          accessibilityState={{ selected: tab === current }}
          onPress={() => onSelect(tab)}
          style={styles.tab}
        >
          <Text style={[styles.label, tab === current && styles.active]}>{label}</Text>
        </Pressable>
      ))}
    </View>
  );
}

const styles = StyleSheet.create({
  bar: { flexDirection: 'row', borderTopWidth: 1, borderColor: colors.border, backgroundColor: colors.card },
  tab: { flex: 1, alignItems: 'center', paddingVertical: 12 },
  label: { color: colors.muted, fontWeight: '600' },
  active: { color: colors.accent },
});
